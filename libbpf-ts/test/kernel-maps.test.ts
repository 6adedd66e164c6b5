import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { describe, test } from 'node:test';
import { requireKernel } from '@ebpf-studio/test-support';
import { readBpfObject } from '../src/index';
import { BpfError } from '../src/errors';
import { mapDelete, mapDump, mapInfo, mapKeys, mapLookup, mapLookupPerCpu, mapUpdate, numPossibleCpus, type MapEntry } from '../src/kernel/maps';
import type { LoadedObject } from '../src/kernel/loaded-object';
import { fixtureBytes, loadFixture, u32 } from './data/attach/fixtures';

function flowKey(addr: number, port: number, proto = 17): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(addr, 0);
  b.writeUInt16LE(port, 4);
  b.writeUInt16LE(proto, 6);
  return new Uint8Array(b);
}

function flowStats(packets: bigint, bytes: number, flags = 0): Uint8Array {
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(packets, 0);
  b.writeUInt32LE(bytes, 8);
  b.writeUInt32LE(flags, 12);
  return new Uint8Array(b);
}

function withMaps(fn: (object: LoadedObject) => void): void {
  const object = loadFixture('maps');
  try {
    fn(object);
  } finally {
    object.close();
  }
}

function dumpAll(fd: number, pageSize: number): MapEntry[] {
  const entries: MapEntry[] = [];
  let after: string | undefined;
  do {
    const page = mapDump(fd, { pageSize, ...(after ? { after } : {}) });
    entries.push(...page.entries);
    after = page.next;
  } while (after);
  return entries;
}

describe('map operations (real kernel maps)', () => {
  test('create, read, update with flags, delete', (t) => {
    if (!requireKernel(t)) return;
    withMaps((object) => {
      const fd = object.map('flows').fd;
      const info = mapInfo(fd);
      assert.deepEqual([info.typeName, info.keySize, info.valueSize, info.maxEntries, info.perCpu], ['hash', 8, 16, 1 << 20, false]);
      const key = flowKey(0x0100007f, 80);
      assert.equal(mapLookup(fd, key), undefined);
      mapUpdate(fd, key, flowStats(1n, 60), 'noexist');
      assert.deepEqual(mapLookup(fd, key), flowStats(1n, 60));
      assert.throws(() => mapUpdate(fd, key, flowStats(2n, 120), 'noexist'), /the key exists: use flags 'any' or 'exist'/);
      mapUpdate(fd, key, flowStats(2n, 120), 'exist');
      assert.deepEqual(mapLookup(fd, key), flowStats(2n, 120));
      assert.throws(() => mapUpdate(fd, flowKey(1, 1), flowStats(1n, 1), 'exist'), /does not exist/);
      assert.throws(() => mapUpdate(fd, new Uint8Array(3), flowStats(1n, 1)), (err: unknown) => err instanceof BpfError && /pass exactly 8 bytes/.test(err.message));
      assert.equal(mapDelete(fd, key), true);
      assert.equal(mapDelete(fd, key), false);
      assert.equal(mapLookup(fd, key), undefined);
      assert.throws(() => mapDelete(object.map('slots').fd, u32(0)), /array maps cannot delete/);
    });
  });

  test('per-CPU values: one buffer per possible CPU, value size rounded up to 8 in the kernel buffer', (t) => {
    if (!requireKernel(t)) return;
    withMaps((object) => {
      const fd = object.map('per_cpu').fd;
      const cpus = numPossibleCpus();
      t.diagnostic(`${cpus} possible CPUs`);
      const values = Array.from({ length: cpus }, (_, cpu) => u32(1000 + cpu));
      mapUpdate(fd, u32(7), values);
      assert.deepEqual(mapLookupPerCpu(fd, u32(7)), values);
      mapUpdate(fd, u32(8), u32(5));
      assert.deepEqual(mapLookupPerCpu(fd, u32(8)), Array.from({ length: cpus }, () => u32(5)), 'one value goes to every CPU');
      assert.throws(() => mapUpdate(fd, u32(9), [u32(1)].concat(values)), new RegExp(`${cpus} possible CPUs`));
      assert.throws(() => mapLookup(fd, u32(7)), /use mapLookupPerCpu/);
      const page = mapDump(fd, { pageSize: 10 });
      assert.equal(page.entries.length, 2);
      assert.ok(page.entries.every((e) => Array.isArray(e.value) && e.value.length === cpus));
    });
  });

  test('keys page by page via get_next_key', (t) => {
    if (!requireKernel(t)) return;
    withMaps((object) => {
      const fd = object.map('flows').fd;
      for (let i = 0; i < 25; i++) mapUpdate(fd, flowKey(i, 1000 + i), flowStats(BigInt(i), i));
      const seen: number[] = [];
      const sizes: number[] = [];
      let after: Uint8Array | undefined;
      for (;;) {
        const page = mapKeys(fd, { limit: 10, ...(after ? { after } : {}) });
        sizes.push(page.keys.length);
        seen.push(...page.keys.map((k) => Buffer.from(k).readUInt32LE(0)));
        if (!page.next) break;
        after = page.next;
      }
      assert.deepEqual(sizes, [10, 10, 5]);
      assert.deepEqual(seen.sort((a, b) => a - b), Array.from({ length: 25 }, (_, i) => i));
    });
  });

  test('a paged dump decodes keys and values by BTF type, through batch lookups or a key walk', (t) => {
    if (!requireKernel(t)) return;
    withMaps((object) => {
      const { spec } = readBpfObject(fixtureBytes('maps'));
      const flows = spec.maps.find((m) => m.name === 'flows')!;
      const decode = { btf: spec.btf!, keyTypeId: flows.keyTypeId!, valueTypeId: flows.valueTypeId! };
      const fd = object.map('flows').fd;
      for (let i = 0; i < 30; i++) mapUpdate(fd, flowKey(0x0a000000 + i, 53, 17), flowStats(BigInt(i) * 1_000_000_000_000n, i * 100, 1));
      const all: MapEntry[] = [];
      let after: string | undefined;
      let pages = 0;
      do {
        const page = mapDump(fd, { pageSize: 7, decode, ...(after ? { after } : {}) });
        assert.ok(page.entries.length <= 14, 'a page stays near its size (a hash bucket may add a few)');
        all.push(...page.entries);
        after = page.next;
        pages++;
      } while (after);
      assert.equal(all.length, 30);
      assert.ok(pages >= 5);
      const sample = all.find((e) => (e.keyDecoded as { addr: number }).addr === 0x0a000003)!;
      assert.deepEqual(sample.keyDecoded, { addr: 0x0a000003, port: 53, proto: 17 });
      assert.deepEqual(sample.valueDecoded, { packets: '3000000000000', bytes: 300, flags: 1 });

      const trie = object.map('routes').fd;
      for (let i = 0; i < 12; i++) mapUpdate(trie, new Uint8Array([24, 0, 0, 0, 10, i, 0, 0]), u32(i));
      assert.equal(dumpAll(trie, 5).length, 12, 'an LPM trie pages too');

      const jumps = object.map('jumps');
      const touch = object.program('touch');
      for (const slot of [1, 4, 6]) mapUpdate(jumps.fd, u32(slot), u32(touch.fd));
      const first = mapDump(jumps.fd, { pageSize: 2 });
      assert.match(first.next!, /^k:/, 'a prog array has no batch lookup: the dump walks keys');
      const slots = dumpAll(jumps.fd, 2);
      assert.deepEqual(slots.map((e) => [Buffer.from(e.key).readUInt32LE(0), Buffer.from(e.value as Uint8Array).readUInt32LE(0)]), [[1, touch.id], [4, touch.id], [6, touch.id]], 'from userspace a prog array holds program ids');
      assert.match(mapDump(fd, { pageSize: 7 }).next!, /^b:/, 'a hash map pages with BPF_MAP_LOOKUP_BATCH');
      assert.throws(() => mapDump(fd, { after: 'garbage' }), /not a map dump cursor/);
    });
  });

  test('pin-by-name maps pin only under the given pin root, and are reused from there', (t) => {
    if (!requireKernel(t)) return;
    const pinRoot = `/sys/fs/bpf/ebst-maps-${process.pid}`;
    try {
      withMaps((object) => assert.equal(object.map('kept').pinPath, undefined, 'no pin root, no pin'));
      const first = loadFixture('maps', { pinRoot });
      try {
        assert.equal(first.map('kept').pinPath, `${pinRoot}/kept`);
        assert.ok(existsSync(`${pinRoot}/kept`));
        mapUpdate(first.map('kept').fd, u32(1), new Uint8Array(8).fill(7));
      } finally {
        first.close();
      }
      const second = loadFixture('maps', { pinRoot });
      try {
        assert.deepEqual(mapLookup(second.map('kept').fd, u32(1)), new Uint8Array(8).fill(7), 'the pinned map was reused');
      } finally {
        second.close();
      }
    } finally {
      rmSync(pinRoot, { recursive: true, force: true });
    }
  });
});
