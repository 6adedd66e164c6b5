import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { requireKernel } from '@ebpf-studio/test-support';
import { readBpfObject } from '../src/index';
import { mapDump, mapUpdateBatch } from '../src/kernel/maps';
import { fixtureBytes, loadFixture } from './data/attach/fixtures';

const ENTRIES = 1 << 20;
const BATCH = 16_384;
const PAGE = 1000;
const MB = 1024 * 1024;

function rss(): number {
  return process.memoryUsage().rss;
}

describe('a 1M-entry hash map', () => {
  test('filled from userspace in batches and dumped page by page in bounded memory', { timeout: 120_000 }, (t) => {
    if (!requireKernel(t)) return;
    const object = loadFixture('maps');
    try {
      const fd = object.map('flows').fd;
      let started = performance.now();
      const keys = Buffer.alloc(8 * BATCH);
      const values = Buffer.alloc(16 * BATCH);
      for (let base = 0; base < ENTRIES; base += BATCH) {
        for (let i = 0; i < BATCH; i++) {
          keys.writeUInt32LE(base + i, i * 8);
          keys.writeUInt32LE(6, i * 8 + 4);
          values.writeBigUInt64LE(BigInt(base + i), i * 16);
        }
        assert.equal(mapUpdateBatch(fd, keys, values, BATCH), BATCH);
      }
      t.diagnostic(`filled ${ENTRIES} entries in ${(performance.now() - started).toFixed(0)} ms (batches of ${BATCH})`);

      global.gc?.();
      const baseline = rss();
      let peak = baseline;
      let count = 0;
      let checksum = 0n;
      let after: string | undefined;
      started = performance.now();
      do {
        const page = mapDump(fd, { pageSize: PAGE, ...(after ? { after } : {}) });
        for (const e of page.entries) checksum += Buffer.from(e.value as Uint8Array).readBigUInt64LE(0);
        count += page.entries.length;
        after = page.next;
        peak = Math.max(peak, rss());
      } while (after);
      const ms = performance.now() - started;
      t.diagnostic(`dumped ${count} entries in ${ms.toFixed(0)} ms (${((count / ms) * 1000).toFixed(0)} entries/s), RSS ${(baseline / MB).toFixed(0)} MB → peak ${(peak / MB).toFixed(0)} MB`);
      assert.equal(count, ENTRIES);
      assert.equal(checksum, (BigInt(ENTRIES) * BigInt(ENTRIES - 1)) / 2n, 'every value seen exactly once');
      assert.ok(peak - baseline < 64 * MB, `RSS grew by ${((peak - baseline) / MB).toFixed(0)} MB while paging`);

      const { spec } = readBpfObject(fixtureBytes('maps'));
      const flows = spec.maps.find((m) => m.name === 'flows')!;
      started = performance.now();
      const decoded = mapDump(fd, { pageSize: PAGE, decode: { btf: spec.btf!, keyTypeId: flows.keyTypeId!, valueTypeId: flows.valueTypeId! } });
      t.diagnostic(`one decoded page of ${decoded.entries.length}: ${(performance.now() - started).toFixed(1)} ms`);
      assert.equal((decoded.entries[0]!.keyDecoded as { port: number }).port, 6);
    } finally {
      object.close();
    }
  });
});
