import { StudioMethods, type TraceEvents, type TraceStartParams, type TraceStartResult, type TraceStopParams } from '@ebpf-studio/studio-protocol';
import { EventEmitter, window, type Disposable, type Pseudoterminal, type Terminal } from 'vscode';
import { reason, type Studio } from './studio';

const HELP = '\x1b[2m[p] pause/resume  [f] filter  [q] stop\x1b[0m';

/** Terminal text: CRLF line ends (a pseudo-terminal does no translation). */
const line = (text: string): string => `${text.replace(/\r?\n/g, '\r\n')}\r\n`;

/**
 * One live trace (trace_pipe lines or a ring buffer's decoded records) shown in a pseudo-terminal:
 * `p` pauses (events that arrive meanwhile are counted on the pause line, not shown), `f` asks for a filter, `q` or
 * Ctrl+C stops. Closing the terminal stops the trace on the node.
 */
class TracePty implements Pseudoterminal {
  private readonly write = new EventEmitter<string>();
  private readonly closed = new EventEmitter<void>();
  readonly onDidWrite = this.write.event;
  readonly onDidClose = this.closed.event;
  private trace: string | undefined;
  private stopped = false;
  private paused = false;
  private missed = 0;
  private filter = '';

  constructor(
    private readonly studio: Studio,
    private readonly params: TraceStartParams,
    private readonly streams: Map<string, TracePty>,
    private readonly retry: () => void,
  ) {}

  private get what(): string {
    const decoded = this.params.btfType ? ` (records decoded as struct ${this.params.btfType})` : this.params.map ? ' (records as hex)' : '';
    return `${this.params.map ? `ring buffer ${this.params.map}` : 'trace_pipe'}${decoded} of session ${this.params.session} on ${this.params.node}`;
  }

  async open(): Promise<void> {
    this.write.fire(line(`Tracing ${this.what}…  ${HELP}`));
    try {
      const { trace } = await this.studio.request<TraceStartResult>(StudioMethods.traceStart, this.params);
      if (this.stopped) return void this.stopOnServer(trace);
      this.trace = trace;
      this.streams.set(trace, this);
      this.studio.client.outputChannel.appendLine(`Trace ${trace} started: ${this.what}`);
    } catch (err) {
      this.write.fire(line(`\x1b[31mCould not start the trace: ${reason(err)}\x1b[0m`));
      void window.showErrorMessage(`Trace on ${this.params.node} failed: ${reason(err)}`, 'Retry').then((c) => c === 'Retry' && this.retry());
    }
  }

  receive(events: TraceEvents): void {
    const shown = events.lines.filter((l) => this.filter === '' || l.includes(this.filter));
    if (this.paused) {
      this.missed += shown.length;
      if (shown.length > 0) this.write.fire(`\r\x1b[2K${this.pausedLine()}`);
      return;
    }
    for (const l of shown) this.write.fire(line(l));
    const lost = events.lostKernel + events.droppedTransport;
    if (lost > 0) this.write.fire(line(`\x1b[33m… ${events.lostKernel} lost in the kernel, ${events.droppedTransport} dropped on the way\x1b[0m`));
  }

  handleInput(data: string): void {
    if (data === 'p') this.togglePause();
    else if (data === 'f') void this.askFilter();
    else if (data === 'q' || data === '\x03') this.closed.fire();
  }

  /** The pause line, kept as the terminal's last line and redrawn as events arrive. */
  private pausedLine(): string {
    return `\x1b[7m paused \x1b[0m (p resumes) · ${this.missed} events not shown`;
  }

  private togglePause(): void {
    this.paused = !this.paused;
    if (this.paused) this.write.fire(this.pausedLine());
    else {
      this.write.fire(`\r\n${line(`\x1b[7m resumed \x1b[0m ${this.missed} events not shown while paused`)}`);
      this.missed = 0;
    }
  }

  private async askFilter(): Promise<void> {
    const filter = await window.showInputBox({ title: 'Trace filter', prompt: 'Show only events containing this text (empty: all)', value: this.filter });
    if (filter === undefined) return;
    this.filter = filter;
    this.write.fire(line(filter ? `\x1b[7m filter \x1b[0m ${filter}` : '\x1b[7m filter off \x1b[0m'));
  }

  close(): void {
    this.stopped = true;
    if (this.trace !== undefined) this.stopOnServer(this.trace);
    this.write.dispose();
    this.closed.dispose();
  }

  private stopOnServer(trace: string): void {
    this.streams.delete(trace);
    const log = (text: string): void => this.studio.client.outputChannel.appendLine(text);
    void this.studio.request<unknown>(StudioMethods.traceStop, { trace } satisfies TraceStopParams).then(
      () => log(`Trace ${trace} stopped: ${this.what}`),
      (err: unknown) => log(`Trace ${trace} could not be stopped: ${reason(err)}`),
    );
  }
}

/** Live traces, each in its own terminal; `ebpfStudio/trace.events` notifications go to their trace's terminal. */
export class Traces implements Disposable {
  private readonly streams = new Map<string, TracePty>();
  private readonly terminals = new Set<Terminal>();
  private readonly subscriptions: Disposable[];

  constructor(private readonly studio: Studio) {
    this.subscriptions = [
      studio.client.onNotification(StudioMethods.traceEvents, (events: TraceEvents) => this.streams.get(events.trace)?.receive(events)),
      window.onDidCloseTerminal((t) => this.terminals.delete(t)),
    ];
  }

  start(params: TraceStartParams): void {
    const pty = new TracePty(this.studio, params, this.streams, () => this.start(params));
    const terminal = window.createTerminal({ name: `eBPF trace · ${params.node}${params.map ? ` · ${params.map}` : ''}`, pty });
    this.terminals.add(terminal);
    terminal.show();
  }

  /** Stop every trace (their terminals close, which stops them on the nodes). */
  stopAll(): void {
    for (const t of this.terminals) t.dispose();
    this.terminals.clear();
  }

  get running(): number {
    return this.terminals.size;
  }

  dispose(): void {
    this.stopAll();
    for (const s of this.subscriptions) s.dispose();
  }
}
