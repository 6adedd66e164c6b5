/**
 * Turns the reStructuredText flavour of the kernel's BPF helper docs (as bpf_doc.py copies it into
 * bpf_helper_defs.h: tab-indented, `::` code blocks, definition lists, ``literals``, `\ ()` escapes)
 * into Markdown for hovers.
 */

interface Line {
  /** Tabs of indentation beyond the section's own. */
  level: number;
  text: string;
}

function inline(text: string): string {
  return text
    .replace(/``([^`]+)``/g, '`$1`')
    .replace(/\\ /g, '')
    .replace(/\\\//g, '/');
}

/** Lines with one tab of section indentation removed; a line ending in `\` is joined with the next. */
function measure(raw: readonly string[]): Line[] {
  const lines: Line[] = [];
  for (let i = 0; i < raw.length; i++) {
    let text = raw[i]!.replace(/^\t/, '');
    while (text.endsWith('\\') && i + 1 < raw.length) text = text.slice(0, -1) + raw[++i]!.replace(/^\t+/, '');
    const level = /^\t*/.exec(text)![0].length;
    lines.push({ level, text: text.slice(level).replace(/\s+$/, '') });
  }
  return lines;
}

/** Converts one section (Description or Returns) of a helper's doc comment. */
export function rstToMarkdown(raw: readonly string[]): string {
  const lines = measure(raw);
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.text.endsWith('::')) {
      const lead = line.text.slice(0, -2).trimEnd();
      if (lead !== '') out.push('  '.repeat(line.level) + inline(`${lead}:`), '');
      i++;
      const code: string[] = [];
      for (; i < lines.length; i++) {
        const l = lines[i]!;
        if (l.text !== '' && l.level <= line.level) break;
        code.push(l.text === '' ? '' : '\t'.repeat(l.level - line.level - 1) + l.text);
      }
      while (code[0] === '') code.shift();
      while (code[code.length - 1] === '') code.pop();
      out.push('```', ...code, '```', '');
      continue;
    }
    if (line.text === '') {
      out.push('');
      i++;
      continue;
    }
    const next = lines[i + 1];
    const isTerm = next !== undefined && next.text !== '' && next.level > line.level && !/^[-*] /.test(line.text);
    out.push('  '.repeat(line.level) + (isTerm ? '- ' : '') + inline(line.text));
    i++;
    for (; isTerm && i < lines.length && lines[i]!.text !== '' && lines[i]!.level > line.level; i++) {
      out.push('  '.repeat(line.level + 1) + inline(lines[i]!.text));
    }
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trim();
}
