import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Call probe every intervalMs until it returns a value (not undefined) and resolve with it; after
 * timeoutMs reject with the message failure() gives (it may describe the last state seen).
 */
export async function poll<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, failure: () => string, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(failure());
    await sleep(intervalMs);
  }
}
