/**
 * Long steps several callers wait for (connecting to a node, bootstrapping its agent), cancellable per
 * caller: the first caller starts the work, later ones join it; a caller whose AbortSignal fires is
 * released at once, and the work itself is aborted when every caller waiting for it has gone (a caller
 * without a signal stays to the end). A failed or aborted attempt, or a value no longer usable, is
 * replaced by a fresh attempt on the next call — after the aborted one has wound down.
 */

/** Rejects with the signal's reason once it fires (never, without a signal). */
export function whenAborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (!signal) return;
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/**
 * `work`, or the signal's reason as soon as it fires; `late` receives what the work produces after the
 * caller has gone (to close it).
 */
export async function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined, late?: (value: T) => void): Promise<T> {
  if (!signal) return work;
  const aborted = whenAborted(signal);
  aborted.catch(() => undefined);
  try {
    return await Promise.race([work, aborted]);
  } catch (err) {
    if (signal.aborted && late) void work.then(late, () => undefined);
    throw err;
  }
}

interface Attempt<T> {
  readonly controller: AbortController;
  readonly result: Promise<T>;
  /** Resolves when the work has settled, whichever way (outcome is set by then). */
  settled: Promise<void>;
  outcome?: { value: T } | { error: unknown };
  waiters: number;
}

export class SharedAttempt<T> {
  private current: Attempt<T> | undefined;

  constructor(
    private readonly work: (signal: AbortSignal) => Promise<T>,
    /** Whether a value of an earlier attempt still serves (e.g. its connection is open). */
    private readonly usable: (value: T) => boolean,
  ) {}

  /** The value, from the attempt under way, the last successful one while usable, or a new attempt. */
  async get(signal?: AbortSignal): Promise<T> {
    for (;;) {
      signal?.throwIfAborted();
      const ready = this.peek();
      if (ready !== undefined) return ready;
      const attempt = this.current;
      if (attempt && !attempt.outcome) {
        if (!attempt.controller.signal.aborted) return this.join(attempt, signal);
        await raceAbort(attempt.settled, signal);
        continue;
      }
      this.current = this.start();
    }
  }

  /** Whether an attempt is under way and not aborted. */
  get running(): boolean {
    return this.current !== undefined && this.current.outcome === undefined && !this.current.controller.signal.aborted;
  }

  /** The last attempt's value when it succeeded and still serves, without waiting or starting one. */
  peek(): T | undefined {
    const outcome = this.current?.outcome;
    return outcome && 'value' in outcome && this.usable(outcome.value) ? outcome.value : undefined;
  }

  /** Forgets `value` (when it is the last attempt's), so the next get() starts afresh. */
  discard(value: T): void {
    const outcome = this.current?.outcome;
    if (outcome && 'value' in outcome && outcome.value === value) this.current = undefined;
  }

  /** Aborts the attempt under way, whoever waits for it. */
  abort(reason?: unknown): void {
    if (this.current && !this.current.outcome) this.current.controller.abort(reason);
  }

  /** The value of the last attempt once it has settled; undefined when it failed or none was made. */
  async settled(): Promise<T | undefined> {
    const attempt = this.current;
    if (!attempt) return undefined;
    await attempt.settled;
    return attempt.outcome && 'value' in attempt.outcome ? attempt.outcome.value : undefined;
  }

  private start(): Attempt<T> {
    const controller = new AbortController();
    const result = Promise.resolve().then(() => this.work(controller.signal));
    const attempt: Attempt<T> = { controller, result, settled: Promise.resolve(), waiters: 0 };
    attempt.settled = result.then(
      (value) => {
        attempt.outcome = { value };
      },
      (error: unknown) => {
        attempt.outcome = { error };
      },
    );
    return attempt;
  }

  private join(attempt: Attempt<T>, signal: AbortSignal | undefined): Promise<T> {
    attempt.waiters += 1;
    if (!signal) return attempt.result;
    return new Promise<T>((resolve, reject) => {
      const leave = (): void => {
        attempt.waiters -= 1;
        if (attempt.waiters === 0 && !attempt.outcome) attempt.controller.abort(signal.reason);
        reject(signal.reason);
      };
      signal.addEventListener('abort', leave, { once: true });
      attempt.result.then(
        (value) => {
          signal.removeEventListener('abort', leave);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', leave);
          reject(error);
        },
      );
    });
  }
}
