import { CancellationTokenSource, type CancellationToken } from 'vscode-jsonrpc';
import type { VerifyReport } from '../engine/types';
import { compileDatabaseStamp } from '../engine/compile-database';
import { VerificationCache } from './verification-cache';

export interface VerifyRequest {
  uri: string;
  path: string;
  text: string;
  version: number;
}

export interface Verifier {
  /** A string naming everything besides the text that decides a verdict (settings, target, tools). */
  context(): string;
  run(request: VerifyRequest, token: CancellationToken): Promise<VerifyReport>;
}

export type Outcome = { request: VerifyRequest; report: VerifyReport; cached: boolean } | { request: VerifyRequest; error: Error };

interface Pending {
  request: VerifyRequest;
  timer?: NodeJS.Timeout;
  cancel?: CancellationTokenSource;
  /** Skip the cache (an explicit "verify now"). */
  fresh: boolean;
  /** Called with the outcome once published (undefined when the document is forgotten first); a newer edit inherits them. */
  waiters: ((outcome: Outcome | undefined) => void)[];
}

/**
 * Debounces verification per document, cancels a stale run when a newer edit arrives (the agent kills
 * its worker), serves unchanged inputs from the cache, and remembers which headers each document
 * includes so a header change re-verifies its includers.
 */
export class DocumentVerifier {
  private readonly pending = new Map<string, Pending>();
  private readonly reports = new Map<string, VerifyReport>();
  private readonly cache = new VerificationCache();
  /** Engine runs started (cache hits excluded). */
  runs = 0;

  constructor(
    private readonly verifier: Verifier,
    private readonly publish: (outcome: Outcome) => void,
  ) {}

  schedule(request: VerifyRequest, delayMs: number): void {
    this.enqueue(request, delayMs, false, []);
  }

  /** Verifies at once, bypassing the debounce and the cache; resolves once the outcome is published. */
  verifyNow(request: VerifyRequest): Promise<Outcome | undefined> {
    return new Promise((resolve) => this.enqueue(request, 0, true, [resolve]));
  }

  private enqueue(request: VerifyRequest, delayMs: number, fresh: boolean, waiters: Pending['waiters']): void {
    const previous = this.pending.get(request.uri);
    if (previous?.timer) clearTimeout(previous.timer);
    previous?.cancel?.cancel();
    const entry: Pending = { request, fresh, waiters: [...(previous?.waiters ?? []), ...waiters] };
    this.pending.set(request.uri, entry);
    if (delayMs <= 0) void this.run(entry);
    else entry.timer = setTimeout(() => void this.run(entry), delayMs);
  }

  private async run(entry: Pending): Promise<void> {
    entry.timer = undefined;
    const { request } = entry;
    // the build's flags (compile_commands.json) decide the verdict as much as the settings do
    const context = `${request.path}\0${compileDatabaseStamp(request.path)}\0${this.verifier.context()}`;
    const hit = entry.fresh ? undefined : this.cache.get(request.text, context);
    if (hit) {
      this.finish(entry, { request, report: hit, cached: true });
      return;
    }
    entry.cancel = new CancellationTokenSource();
    this.runs++;
    try {
      const report = await this.verifier.run(request, entry.cancel.token);
      if (entry.cancel.token.isCancellationRequested) return;
      this.cache.set(request.text, context, report);
      this.finish(entry, { request, report, cached: false });
    } catch (err) {
      if (entry.cancel.token.isCancellationRequested) return;
      this.finish(entry, { request, error: err as Error });
    }
  }

  private finish(entry: Pending, outcome: Outcome): void {
    if (this.pending.get(entry.request.uri) !== entry) return;
    this.pending.delete(entry.request.uri);
    if ('report' in outcome) this.reports.set(entry.request.uri, outcome.report);
    this.publish(outcome);
    for (const done of entry.waiters) done(outcome);
  }

  /**
   * Resolves once the document has no verification waiting or running (at once when it has none): a
   * newer edit's run inherits the wait, so this settles with the latest text's outcome.
   */
  settled(uri: string): Promise<void> {
    const entry = this.pending.get(uri);
    if (!entry) return Promise.resolve();
    return new Promise((resolve) => entry.waiters.push(() => resolve()));
  }

  /** The last report published for a document. */
  report(uri: string): VerifyReport | undefined {
    return this.reports.get(uri);
  }

  forget(uri: string): void {
    const p = this.pending.get(uri);
    if (p?.timer) clearTimeout(p.timer);
    p?.cancel?.cancel();
    for (const done of p?.waiters ?? []) done(undefined);
    this.pending.delete(uri);
    this.reports.delete(uri);
  }

  /** Documents whose last verification included `path`. */
  includersOf(path: string): string[] {
    return [...this.reports.entries()].filter(([, r]) => r.dependencies.includes(path)).map(([uri]) => uri);
  }
}
