import type { Connection, WorkDoneProgressReporter } from 'vscode-languageserver/node';
import type { VerifyProgress } from '../engine-verifier';

/** Upload reports closer together than this are dropped (a step change is always sent). */
const REPORT_INTERVAL_MS = 200;
const MB = 1_000_000;

const megabytes = (bytes: number): string => (bytes / MB).toFixed(1);

/** What a target is doing, as the progress notification says it: "uploading the Node runtime 12.3/42.7 MB". */
function describeProgress(progress: VerifyProgress): string {
  switch (progress.step) {
    case 'connect':
      return 'connecting over SSH';
    case 'upload':
      return `uploading ${progress.what === 'runtime' ? 'the Node runtime' : 'the agent'} ${megabytes(progress.bytes)}/${megabytes(progress.total)} MB`;
    case 'unpack':
      return 'unpacking the Node runtime';
    case 'start':
      return 'starting the agent';
    case 'verify':
      return 'verifying';
  }
}

/**
 * A request's work-done progress (LSP `$/progress` on the workDoneToken the client sent with it): one
 * message naming what each target is doing, e.g. "east-2: uploading the Node runtime 12.3/42.7 MB".
 * Without a token it reports nothing.
 */
export class RequestProgress {
  private readonly reporter: WorkDoneProgressReporter;
  private readonly doing = new Map<string, string>();
  private lastSent = 0;
  private lastStep = '';

  constructor(connection: Connection, token: string | number | undefined, title: string) {
    this.reporter = connection.window.attachWorkDoneProgress(token);
    this.reporter.begin(title, undefined, undefined, true);
  }

  /** A progress callback for one target; `named` prefixes its messages with the target's name (several targets). */
  of(target: string, named: boolean): (progress: VerifyProgress) => void {
    return (progress) => {
      const text = describeProgress(progress);
      this.doing.delete('');
      this.set(named ? `${target}: ${text}` : text, target, progress.step);
    };
  }

  /** A step of the request itself ("compiling", "attaching"): it replaces what the targets were doing. */
  report(message: string): void {
    this.doing.clear();
    this.set(message, '', message);
  }

  private set(message: string, key: string, step: string): void {
    this.doing.set(key, message);
    const now = Date.now();
    const stepKey = `${key}\0${step}`;
    if (stepKey === this.lastStep && now - this.lastSent < REPORT_INTERVAL_MS) return;
    this.lastStep = stepKey;
    this.lastSent = now;
    this.reporter.report([...this.doing.values()].join('; '));
  }

  done(): void {
    this.reporter.done();
  }
}
