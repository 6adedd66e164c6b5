import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { BpfError } from '../../errors';

export const TRACEFS = '/sys/kernel/tracing';
const POLL_MS = 50;
const CHUNK = 64 * 1024;

/**
 * Makes tracefs available at /sys/kernel/tracing (libbpf reads tracepoint ids there), mounting it when it
 * is not. The mount is left in place: it is the standard location and other tools may use it meanwhile.
 */
export function ensureTracefs(): void {
  if (existsSync(`${TRACEFS}/events`)) return;
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    throw new BpfError(`tracefs is not mounted at ${TRACEFS} and mounting it failed: ${(err as Error).message.trim()}`, `mount it as root: mount -t tracefs nodev ${TRACEFS}`);
  }
}

export interface TraceLinesOptions {
  /** Stops the iteration (the iterator also stops when the consumer breaks out of its loop). */
  signal?: AbortSignal;
}

/**
 * Lines of the kernel's trace_pipe (bpf_printk output among them) as an async iterator. trace_pipe is one
 * kernel-wide stream and reading CONSUMES it: a second reader (another tool or test) steals lines. Opened
 * non-blocking and polled, so it never ties up a libuv thread and stops promptly.
 */
export async function* traceLines(options: TraceLinesOptions = {}): AsyncGenerator<string, void, undefined> {
  ensureTracefs();
  const fd = openSync(`${TRACEFS}/trace_pipe`, constants.O_RDONLY | constants.O_NONBLOCK);
  const buf = Buffer.alloc(CHUNK);
  let pending = '';
  try {
    while (!options.signal?.aborted) {
      let n = 0;
      try {
        n = readSync(fd, buf, 0, CHUNK, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      }
      if (n === 0) {
        await sleep(POLL_MS, undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined);
        continue;
      }
      pending += buf.toString('utf8', 0, n);
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) yield line;
    }
  } finally {
    closeSync(fd);
  }
}
