import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { compileBpf, requireKernel, tempDir } from '@ebpf-studio/test-support';
import { parseVerifierLogStream } from '../src/index';

const DATA = join(__dirname, '..', '..', 'test', 'data', 'kernel');
const MB = 1024 * 1024;

test('a real >100 MB complexity-failure log parses in bounded memory', async (t) => {
  if (!requireKernel(t)) return;
  const dir = tempDir();
  const object = compileBpf(join(DATA, 'too-complex.bpf.c'), dir);
  const logFile = join(dir, 'too-complex.log');
  const produced = JSON.parse(
    execFileSync(process.execPath, [join(__dirname, 'support', 'write-full-log.js'), object, logFile, String(512 * MB)], { encoding: 'utf8' }),
  ) as { verdict: string; truncated: boolean };
  assert.equal(produced.verdict, 'rejected');
  assert.equal(produced.truncated, false, 'the whole log fits the buffer');
  const bytes = statSync(logFile).size;
  assert.ok(bytes > 100 * MB, `log is ${(bytes / MB).toFixed(0)} MB`);

  let peakHeap = 0;
  const baseline = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed - baseline);
  }, 5);
  const log = await parseVerifierLogStream(createReadStream(logFile, { highWaterMark: 1 * MB }));
  clearInterval(sampler);
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed - baseline);

  assert.equal(log.truncated, false);
  assert.match(log.error ?? '', /BPF program is too large/);
  assert.equal(log.stats?.insnsProcessed, 1_000_001);
  assert.ok(log.backEdges.length > 0, 'the loop is found');
  assert.ok(log.byteCount >= bytes - 1, 'every byte was read');
  assert.ok(peakHeap < 64 * MB, `heap grew by ${(peakHeap / MB).toFixed(1)} MB`);
  t.diagnostic(`log ${(bytes / MB).toFixed(0)} MB, heap growth ${(peakHeap / MB).toFixed(1)} MB`);
});
