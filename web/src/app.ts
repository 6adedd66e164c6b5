/** The Verifier Explorer page: a program picker, the source, the instruction stream and the state panel, kept in step. */
import { revealInHost, type ExplorerData, type ExplorerInstruction, type ExplorerProgram, type SourceAnnotation } from './data';
import { SourceView } from './source-view';
import { renderState } from './state-panel';
import { layoutStream, positionsByLine } from './stream-layout';
import { StreamView } from './stream-view';

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}

/** The source annotation in effect at `position`: the last one printed at or before it. */
function annotationAt(instructions: readonly ExplorerInstruction[], position: number): SourceAnnotation | undefined {
  for (let i = position; i >= 0; i--) {
    const annotation = instructions[i]!.annotation;
    if (annotation) return annotation;
  }
  return undefined;
}

function lastErrorPosition(instructions: readonly ExplorerInstruction[]): number | undefined {
  for (let i = instructions.length - 1; i >= 0; i--) if (instructions[i]!.isError) return i;
  return undefined;
}

function programMessage(program: ExplorerProgram): string | undefined {
  const notes = [program.message];
  if (program.truncated) notes.push('The log lost its head (only its tail was kept): the first instructions shown are not where the walk started.');
  if (program.verdict === 'accepted' && program.instructions.length === 0) notes.push('Accepted: the kernel keeps no log for accepted programs.');
  const text = notes.filter((n) => n !== undefined).join('\n');
  return text === '' ? undefined : text;
}

export class Explorer {
  private readonly source: SourceView | undefined;
  private readonly stream: StreamView;
  private readonly picker = byId<HTMLSelectElement>('program');
  private program: ExplorerProgram | undefined;
  private byLine = new Map<number, number[]>();
  private selected: number | undefined;

  constructor(private readonly data: ExplorerData) {
    // Only the instruction stream for a log without source, or on the page's #/log route.
    const logMode = data.source === undefined || location.hash === '#/log';
    document.body.classList.toggle('log-mode', logMode);
    this.source = logMode || data.source === undefined ? undefined : new SourceView(byId('source'), data.file, data.source, (line) => this.selectLine(line, true));
    this.stream = new StreamView(byId('stream'), (position) => this.select(position, true, true));
    byId('file').textContent = data.kernel ? `${data.file} · kernel ${data.kernel}` : data.file;
    this.picker.replaceChildren(
      ...data.programs.map((p, i) => {
        const option = document.createElement('option');
        option.value = String(i);
        option.textContent = `${p.name} (${p.verdict})`;
        return option;
      }),
    );
    this.picker.hidden = data.programs.length === 0;
    this.picker.onchange = () => this.showProgram(Number(this.picker.value));
    const first = data.programs.findIndex((p) => p.verdict !== 'accepted');
    this.showProgram(Math.max(0, first));
  }

  dispose(): void {
    this.picker.onchange = null;
    this.source?.dispose();
    this.stream.dispose();
  }

  private showProgram(index: number): void {
    const program = this.data.programs[index];
    this.program = program;
    this.selected = undefined;
    const instructions = program?.instructions ?? [];
    this.byLine = positionsByLine(instructions);
    this.stream.show(instructions, layoutStream(instructions));
    const errorAt = lastErrorPosition(instructions);
    const errorLine = errorAt === undefined ? undefined : instructions[errorAt]!.line;
    this.source?.show([...this.data.diagnostics, ...(program?.diagnostics ?? [])], this.byLine.keys(), errorLine);
    this.picker.value = String(index);
    const verdict = byId('verdict');
    verdict.textContent = program?.verdict ?? 'no program';
    verdict.className = `verdict ${program?.verdict ?? 'none'}`;
    byId('stream-count').textContent = program?.insnsProcessed !== undefined ? `(${instructions.length} printed, ${program.insnsProcessed} processed)` : `(${instructions.length})`;
    const message = byId('message');
    const text = program ? programMessage(program) : 'No BPF program to explore: the diagnostics are on the source.';
    message.hidden = text === undefined;
    message.textContent = text ?? '';
    const start = errorAt ?? (instructions.length > 0 ? 0 : undefined);
    if (start !== undefined) this.select(start, true);
    else {
      this.source?.highlightLine(undefined, false);
      renderState(byId('state'), byId('state-title'), undefined);
      byId('status').textContent = '';
    }
  }

  /** The host's editor moved to `line` of the source: select its first instruction (or say it has none). */
  showLine(line: number): void {
    this.selectLine(line, false);
  }

  /**
   * Selects the instruction at `position` of the stream; `revealSource` scrolls the source to its line,
   * `inHost` also asks the extension (in a webview) to show that line in its editor.
   */
  private select(position: number, revealSource: boolean, inHost = false): void {
    const instructions = this.program?.instructions ?? [];
    const insn = instructions[position];
    if (!insn) return;
    this.selected = position;
    this.stream.select(position);
    this.source?.highlightLine(insn.line, revealSource);
    renderState(byId('state'), byId('state-title'), {
      insn,
      previous: instructions[position - 1],
      annotation: annotationAt(instructions, position),
      position,
      count: instructions.length,
    });
    byId('status').textContent = insn.line === undefined ? `insn ${insn.idx}` : `insn ${insn.idx} · line ${insn.line}`;
    if (inHost && insn.line !== undefined) revealInHost(insn.line);
  }

  /**
   * A click on a source line (`fromPage`) selects its first instruction, or the next one when one of its
   * instructions is selected, and shows the line in the extension's editor too; the extension's cursor
   * moving to a line selects its first instruction (within the line it keeps the selection) and scrolls the page's source there.
   */
  private selectLine(line: number, fromPage: boolean): void {
    const positions = this.byLine.get(line);
    if (!positions) {
      byId('status').textContent = `line ${line}: no verified instruction`;
      return;
    }
    const current = this.selected;
    const onThisLine = current !== undefined && this.program?.instructions[current]?.line === line;
    if (onThisLine && !fromPage) return;
    const next = onThisLine ? (positions.find((p) => p > current) ?? positions[0]!) : positions[0]!;
    this.select(next, !fromPage, fromPage);
  }
}
