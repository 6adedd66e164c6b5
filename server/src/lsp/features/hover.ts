import { matchSection } from '@ebpf-studio/libbpf-ts';
import type { Hover, MarkupContent } from 'vscode-languageserver';
import { sectionStringAt } from '../../knowledge/bpf-c-outline';
import { enclosingProgram } from '../../knowledge/bpf-c-outline';
import type { KnowledgeService } from '../knowledge-service';
import { identifierAt } from './word-at';

function markdown(value: string): MarkupContent {
  return { kind: 'markdown', value };
}

function sectionHover(section: string): string {
  const m = matchSection(section);
  if (!m) return `\`SEC("${section}")\`: libbpf does not know this section name, so it cannot tell the program type.`;
  const lines = [`\`SEC("${section}")\` — program type \`${m.progType}\`${m.expectedAttachType ? `, attach type \`${m.expectedAttachType}\`` : ''}`];
  lines.push(m.known ? `libbpf ${m.attachable === 'auto' ? 'can attach it from the section name alone' : 'needs an explicit attach target'}.` : `Needs libbpf ${m.knownSince ?? 'newer than 1.1'}.`);
  return lines.join('\n\n');
}

/** Hover: helper docs (with availability for the enclosing program type), kfunc signatures, SEC names. */
export async function hover(knowledge: KnowledgeService, uri: string, text: string, line: number, character: number): Promise<Hover | null> {
  const lineText = text.split('\n')[line] ?? '';
  const sec = sectionStringAt(text, line, character);
  if (sec) {
    const full = lineText.slice(sec.start, sec.end);
    return { contents: markdown(sectionHover(full)) };
  }
  const id = identifierAt(lineText, character);
  if (!id) return null;
  const range = { start: { line, character: id.start }, end: { line, character: id.end } };
  const helper = knowledge.helper(id.word);
  if (helper) {
    const parts = [`\`\`\`c\n${helper.signature}\n\`\`\``, `BPF helper #${helper.id}`];
    const program = enclosingProgram(await knowledge.outline(uri, text), line);
    if (program?.progType) {
      const available = await knowledge.availableHelpers(program.progType);
      if (available && !available.has(helper.id)) parts.push(`**Not available to \`${program.progType}\` programs on the target kernel.**`);
    }
    if (helper.description) parts.push(helper.description);
    if (helper.returns) parts.push(`**Returns** ${helper.returns}`);
    return { contents: markdown(parts.join('\n\n')), range };
  }
  const kfunc = knowledge.kfunc(id.word);
  if (kfunc) return { contents: markdown(`\`\`\`c\n${kfunc.signature}\n\`\`\`\n\nkfunc of the target kernel (declare it \`extern ... __ksym;\`)`), range };
  return null;
}
