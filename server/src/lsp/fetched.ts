/**
 * A value fetched in the background for the editor: absent until it arrives, so a request can answer
 * without it instead of waiting. A failed fetch is tried again by the first use `retryMs` after it failed.
 */
export class Fetched<T> {
  private arrived: { readonly value: T } | undefined;
  private pending: Promise<T | undefined> | undefined;
  private failedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly fetch: () => Promise<T>,
    private readonly retryMs: number,
  ) {}

  /** The value if it has arrived; otherwise undefined, and the fetch is started (unless it runs or failed too recently). */
  peek(): T | undefined {
    if (this.arrived) return this.arrived.value;
    void this.wait();
    return undefined;
  }

  /** The value once fetched; undefined when the fetch fails (or failed less than `retryMs` ago). */
  wait(): Promise<T | undefined> {
    if (this.arrived) return Promise.resolve(this.arrived.value);
    if (this.pending) return this.pending;
    if (Date.now() - this.failedAt < this.retryMs) return Promise.resolve(undefined);
    // A fetch that throws at once fails like one that rejects.
    const pending = new Promise<T>((resolve) => resolve(this.fetch())).then(
      (value) => {
        this.arrived = { value };
        return value;
      },
      () => {
        this.failedAt = Date.now();
        return undefined;
      },
    );
    this.pending = pending;
    void pending.then(() => {
      if (this.pending === pending) this.pending = undefined;
    });
    return pending;
  }
}
