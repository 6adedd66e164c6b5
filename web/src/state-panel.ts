/** The selected instruction's registers and stack (values changed by it marked), what the kernel printed, and where it came from. */
import type { ExplorerInstruction, SourceAnnotation } from './data';

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

/** `before` is the previous instruction's values (undefined for the first instruction: nothing to compare). */
function table(title: string, values: Record<string, string> | undefined, before: Record<string, string> | undefined): HTMLElement {
  const section = element('section');
  section.append(element('h3', undefined, title));
  const entries = Object.entries(values ?? {});
  if (entries.length === 0) {
    section.append(element('p', 'empty', 'nothing known'));
    return section;
  }
  const rows = element('table');
  for (const [name, value] of entries) {
    const row = element('tr', before !== undefined && before[name] !== value ? 'changed' : undefined);
    row.append(element('th', undefined, name), element('td', undefined, value));
    rows.append(row);
  }
  section.append(rows);
  return section;
}

export interface SelectedInstruction {
  insn: ExplorerInstruction;
  /** The instruction printed before it in the log (its state is the "before"). */
  previous: ExplorerInstruction | undefined;
  /** The source annotation in effect. */
  annotation: SourceAnnotation | undefined;
  position: number;
  count: number;
}

export function renderState(container: HTMLElement, title: HTMLElement, selected: SelectedInstruction | undefined): void {
  container.replaceChildren();
  if (!selected) {
    title.textContent = '';
    container.append(element('p', 'empty', 'No instruction selected.'));
    return;
  }
  const { insn, previous, annotation, position, count } = selected;
  title.textContent = `after insn ${insn.idx}`;
  const head = element('div', insn.isError ? 'insn-head error' : 'insn-head');
  head.append(element('code', undefined, `${insn.idx}: ${insn.text}`));
  const facts = [`#${position + 1} of ${count} in the log`, insn.visits === 1 ? 'visited once' : `visited ${insn.visits}×`];
  if (insn.isError) facts.unshift('rejected here');
  head.append(element('div', 'facts', facts.join(' · ')));
  container.append(head);
  if (annotation) container.append(element('div', 'annotation', annotation.line > 0 ? `${annotation.text}  (${annotation.file}:${annotation.line})` : `(no source line) ${annotation.file}`));
  container.append(
    table('Registers', insn.registers, previous && (previous.registers ?? {})),
    table('Stack', insn.stack, previous && (previous.stack ?? {})),
  );
  if (insn.state !== undefined) {
    const printed = element('section');
    printed.append(element('h3', undefined, 'Printed by the kernel'), element('pre', undefined, insn.state));
    container.append(printed);
  }
}
