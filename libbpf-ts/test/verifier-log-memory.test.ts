// Bounded memory: a >100 MB log streamed through the parser, built by repeating the body of a real loop log.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseVerifierLogStream } from '../src/verifier-log';

const LOG_DIR = join(__dirname, '..', '..', 'test', 'data', 'logs');
const TARGET_BYTES = 105 * 1024 * 1024;
const SAMPLE_EVERY = 16 * 1024 * 1024;
const MAX_GROWTH = 64 * 1024 * 1024;

function collector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const ITERATION = '; sum += i';

function lastIndex(lines: string[], prefix: string): number {
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i].startsWith(prefix)) return i;
  return -1;
}

/** The real log cut in three: the walk up to the loop, one loop iteration, and the last iteration to the end. */
function loopLogParts(): { head: string; body: string; end: string } {
  const lines = readFileSync(join(LOG_DIR, 'loop-complexity.l1.head.log'), 'utf8').split('\n');
  const first = lines.findIndex((l) => l.startsWith(ITERATION));
  const second = lines.findIndex((l, i) => i > first && l.startsWith(ITERATION));
  assert.ok(first > 0 && second > first);
  const tail = readFileSync(join(LOG_DIR, 'loop-complexity.l1.tail.log'), 'utf8').split('\n');
  return {
    head: lines.slice(0, first).join('\n') + '\n',
    body: lines.slice(first, second).join('\n') + '\n',
    end: tail.slice(lastIndex(tail, ITERATION)).join('\n'),
  };
}

/** Yields about `total` bytes: the head, the body repeated, the end; chunk sizes vary and split lines anywhere. */
async function* syntheticLog(parts: { head: string; body: string; end: string }, total: number, onBytes: (n: number) => void) {
  const block = Buffer.from(parts.body.repeat(64));
  yield Buffer.from(parts.head);
  let sent = 0;
  let offset = 0;
  let size = 1;
  while (sent < total) {
    size = (size * 7919 + 12345) % (128 * 1024) || 1;
    const chunk = block.subarray(offset, Math.min(offset + size, block.length));
    offset = (offset + chunk.length) % block.length;
    sent += chunk.length;
    onBytes(chunk.length);
    yield chunk;
  }
  // Finish the iteration in progress: the end starts with a whole iteration.
  const rest = block.subarray(offset);
  const next = rest.indexOf(ITERATION);
  yield next >= 0 ? rest.subarray(0, next) : rest;
  yield Buffer.from(parts.end);
}

test('a >100 MB log parses with bounded heap growth', async (t) => {
  const gc = collector();
  const parts = loopLogParts();
  gc();
  const base = process.memoryUsage().heapUsed;
  let peak = 0;
  let sinceSample = 0;
  const started = Date.now();
  const log = await parseVerifierLogStream(
    syntheticLog(parts, TARGET_BYTES, (n) => {
      sinceSample += n;
      if (sinceSample < SAMPLE_EVERY) return;
      sinceSample = 0;
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed - base);
    }),
  );
  gc();
  peak = Math.max(peak, process.memoryUsage().heapUsed - base);
  const seconds = (Date.now() - started) / 1000;
  assert.ok(peak < MAX_GROWTH, `heap grew by ${(peak / 2 ** 20).toFixed(1)} MB`);
  assert.ok(log.byteCount > 100 * 1024 * 1024, `${log.byteCount} bytes`);

  assert.equal(log.truncated, false);
  assert.equal(log.error, 'BPF program is too large. Processed 1000001 insn');
  assert.equal(log.tooLarge, true);
  assert.equal(log.stats?.insnsProcessed, 1000001);
  assert.equal(log.failingInsn?.idx, 25);
  assert.equal(log.failingSource?.line, 22);
  assert.equal(log.r0Setter?.text, 'r0 >>= 32');
  assert.deepEqual(log.backEdges, [{ from: 24, to: 16 }]);
  assert.equal(log.tail.length, 512);
  // Only maps keyed by instruction index grew: the program has 30 instructions.
  assert.ok(log.visits.size <= 30 && log.sourceByInsn.size <= 30);
  const hottest = [...log.visits.entries()].sort((a, b) => b[1] - a[1])[0];
  assert.ok(hottest[0] >= 16 && hottest[0] <= 24, `hottest insn ${hottest[0]}`);
  assert.ok(hottest[1] > 50000, `${hottest[1]} visits`);
  assert.equal(log.visits.get(25), 1);
  t.diagnostic(`parsed ${(log.byteCount / 2 ** 20).toFixed(0)} MB in ${seconds.toFixed(1)} s, heap growth ${(peak / 2 ** 20).toFixed(1)} MB`);
});
