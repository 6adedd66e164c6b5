/**
 * The text with its comments blanked (each character of a comment becomes a space, newlines stay), so
 * lines and columns are unchanged; string and character literals are kept, and a comment marker inside
 * one is not a comment.
 */
function blankComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      while (i < text.length && text[i] !== '\n') {
        out += ' ';
        i++;
      }
    } else if (c === '/' && next === '*') {
      out += '  ';
      i += 2;
      while (i < text.length && !(text[i] === '*' && text[i + 1] === '/')) out += text[i++] === '\n' ? '\n' : ' ';
      if (i < text.length) {
        out += '  ';
        i += 2;
      }
    } else if (c === '"' || c === "'") {
      out += c;
      i++;
      while (i < text.length && text[i] !== c && text[i] !== '\n') {
        if (text[i] === '\\' && i + 1 < text.length) out += text[i++]!;
        out += text[i++]!;
      }
      if (text[i] === c) out += text[i++]!;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Line-oriented views of the user's source text, for placing diagnostics (1-based lines and columns). */
export class SourceText {
  readonly lines: string[];
  private codeLines: string[] | undefined;

  constructor(readonly text: string) {
    this.lines = text.split('\n');
  }

  /** Line n with its comments blanked: what find() and functionLine() search, so text in a comment is never taken for code. */
  code(n: number): string {
    this.codeLines ??= blankComments(this.text).split('\n');
    return this.codeLines[n - 1] ?? '';
  }

  line(n: number): string {
    return this.lines[n - 1] ?? '';
  }

  /** The span of a line's code without leading or trailing blanks or a trailing // comment. */
  codeSpan(n: number): { column: number; endColumn: number } {
    const raw = this.line(n);
    const withoutComment = raw.replace(/\s*\/\/.*$/, '').replace(/\s*\/\*.*?\*\/\s*$/, '');
    const start = raw.length - raw.trimStart().length;
    const end = withoutComment.trimEnd().length;
    return end > start ? { column: start + 1, endColumn: end + 1 } : { column: 1, endColumn: raw.length + 1 };
  }

  /** First line (1-based) whose code (comments aside) matches, searching from `from` in the given direction. */
  find(pattern: RegExp, from = 1, direction: 1 | -1 = 1): number | undefined {
    for (let n = from; n >= 1 && n <= this.lines.length; n += direction) {
      if (pattern.test(this.code(n))) return n;
    }
    return undefined;
  }

  /** The line that opens a function definition named `name`. */
  functionLine(name: string): number | undefined {
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const pattern = new RegExp(`\\b${escaped}\\s*\\(`);
    for (let n = 1; n <= this.lines.length; n++) {
      if (!pattern.test(this.code(n))) continue;
      const rest = Array.from({ length: 6 }, (_, i) => this.code(n + i)).join('\n');
      if (/\)\s*(?:\{|$)/m.test(rest.slice(rest.search(pattern))) && !/;\s*$/.test(this.code(n).trim())) return n;
    }
    return undefined;
  }

  /** The line of the SEC("section") that annotates the function at `functionLine`. */
  sectionLine(section: string, functionLine: number | undefined): number | undefined {
    const escaped = section.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const pattern = new RegExp(`SEC\\(\\s*"${escaped}"\\s*\\)`);
    if (functionLine !== undefined) return this.find(pattern, functionLine, -1);
    return this.find(pattern);
  }
}
