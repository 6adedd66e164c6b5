import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readlinkSync } from 'node:fs';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { requireKernel } from '@ebpf-studio/test-support';
import { NotSupportedError } from '../src/errors';
import { traceLines } from '../src/kernel/attach/trace-pipe';
import { attachTracepoint } from '../src/kernel/attach/tracing';
import { mapLookup, mapUpdate } from '../src/kernel/maps';
import { PerfBufferReader } from '../src/kernel/perf-buffer';
import { enableStats, programStats } from '../src/kernel/prog-stats';
import { RingBufferReader } from '../src/kernel/ring-buffer';
import { testRun } from '../src/kernel/test-run';
import type { LoadedObject } from '../src/kernel/loaded-object';
import { loadFixture, readU64, u32 } from './data/attach/fixtures';

const RING_TAG = 0x52494e47;
const PERF_TAG = 0x50455246;
const SEQ = 0;
const RING_FULL = 1;

/** An Ethernet + IPv4 + UDP packet to port 9. */
function udpPacket(): Uint8Array {
  const p = Buffer.alloc(64);
  p.writeUInt16BE(0x0800, 12);
  p[14] = 0x45;
  p[23] = 17;
  p.writeUInt16BE(9, 14 + 20 + 2);
  return new Uint8Array(p);
}

interface Record {
  seq: bigint;
  tag: number;
  pid: number;
}

function decode(bytes: Uint8Array): Record {
  const b = Buffer.from(bytes);
  return { seq: b.readBigUInt64LE(0), tag: b.readUInt32LE(8), pid: b.readUInt32LE(12) };
}

function stat(object: LoadedObject, index: number): bigint {
  return readU64(mapLookup(object.map('stats').fd, u32(index)));
}

function withEvents(programs: string[], fn: (object: LoadedObject) => Promise<void> | void): Promise<void> {
  const object = loadFixture('events', { programs });
  return Promise.resolve()
    .then(() => fn(object))
    .finally(() => object.close());
}

describe('events from programs to JS', () => {
  test('ring buffer records arrive in order, as copies', (t) => {
    if (!requireKernel(t)) return;
    return withEvents(['ring_emit'], async (object) => {
      const records: Record[] = [];
      const reader = new RingBufferReader(object.map('ring').fd, (bytes) => records.push(decode(bytes)));
      try {
        testRun(object.program('ring_emit').fd, { dataIn: udpPacket(), repeat: 1000 });
        const deadline = Date.now() + 2000;
        while (records.length < 1000 && Date.now() < deadline) await sleep(10);
        assert.equal(records.length, 1000);
        assert.ok(records.every((r, i) => r.seq === BigInt(i) && r.tag === RING_TAG && r.pid === process.pid));
        assert.deepEqual(reader.stats, { records: 1000, bytes: 16_000 });
      } finally {
        reader.close();
        reader.close();
      }
    });
  });

  test('ring buffer throughput: draining a full buffer, and a live tracepoint producer', { timeout: 60_000 }, (t) => {
    if (!requireKernel(t)) return;
    return withEvents(['ring_emit', 'on_getppid'], async (object) => {
      let delivered = 0;
      const reader = new RingBufferReader(object.map('ring').fd, () => void delivered++, { intervalMs: 10 });
      try {
        const burst = 500_000;
        let started = performance.now();
        testRun(object.program('ring_emit').fd, { dataIn: udpPacket(), repeat: burst });
        const produceMs = performance.now() - started;
        started = performance.now();
        while (reader.consume() > 0);
        const drainMs = performance.now() - started;
        assert.equal(delivered, burst);
        assert.equal(stat(object, RING_FULL), 0n);
        t.diagnostic(`drain: ${burst} records produced in ${produceMs.toFixed(0)} ms (test-run), delivered to JS in ${drainMs.toFixed(0)} ms = ${((burst / drainMs) * 1000 / 1e6).toFixed(2)} M records/s`);

        delivered = 0;
        const producer = spawn(process.execPath, ['-e', `process.stdin.once('data', () => { const end = Date.now() + 1000; let n = 0; while (Date.now() < end) { for (let i = 0; i < 1000; i++) process.ppid; n += 1000; } console.log(n); });`], { stdio: ['pipe', 'pipe', 'inherit'] });
        try {
          mapUpdate(object.map('target').fd, u32(0), u32(producer.pid!));
          const tp = attachTracepoint(object.program('on_getppid'), 'syscalls', 'sys_enter_getppid');
          try {
            const fullBefore = stat(object, RING_FULL);
            started = performance.now();
            producer.stdin!.write('go\n');
            const [out] = (await once(producer.stdout!, 'data')) as [Buffer];
            while (reader.consume() > 0);
            const ms = performance.now() - started;
            const produced = Number(out.toString().trim());
            const lost = stat(object, RING_FULL) - fullBefore;
            t.diagnostic(`live: a producer made ${produced} getppid calls in 1 s; JS got ${delivered} records (${((delivered / ms) * 1000 / 1e6).toFixed(2)} M/s over ${ms.toFixed(0)} ms), the program counted ${lost} ring-full drops`);
            assert.equal(BigInt(delivered) + lost, BigInt(produced), 'every event was delivered or counted as dropped');
          } finally {
            tp.detach();
          }
        } finally {
          producer.kill('SIGKILL');
          // Its SIGCHLD would otherwise land in the next test and cut a repeated test-run short (EINTR).
          if (producer.exitCode === null && producer.signalCode === null) await once(producer, 'exit');
        }
      } finally {
        reader.close();
      }
    });
  });

  test('perf buffer samples arrive, and samples it had no room for are reported lost', (t) => {
    if (!requireKernel(t)) return;
    return withEvents(['perf_emit'], async (object) => {
      const samples: Record[] = [];
      let lost = 0;
      const reader = new PerfBufferReader(object.map('perf').fd, 1, (bytes) => samples.push(decode(bytes)), (count) => (lost += count));
      // Samples go to the current CPU's buffer and the kernel reports a loss with the next sample on that
      // CPU: keep this thread on one CPU so the flood and the samples after it share a buffer.
      const restoreAffinity = pinToOneCpu();
      try {
        // The program numbers its samples (SEQ): a repeated test-run that a signal cut short is run again,
        // so the program's own count is what was emitted.
        const emitted = (): number => Number(stat(object, SEQ));
        testRun(object.program('perf_emit').fd, { dataIn: udpPacket(), repeat: 100 });
        reader.consume();
        assert.ok(emitted() >= 100);
        assert.equal(samples.length, emitted());
        assert.ok(samples.every((s, i) => s.tag === PERF_TAG && s.seq === BigInt(i)));
        const beforeFlood = emitted();
        const flood = 20_000;
        testRun(object.program('perf_emit').fd, { dataIn: udpPacket(), repeat: flood });
        reader.consume();
        // The kernel writes its LOST record with the next sample that fits into the same CPU's buffer, i.e.
        // after a drain, once this process runs on that CPU again.
        for (let extra = 0; lost === 0 && extra < 200; extra++) {
          testRun(object.program('perf_emit').fd, { dataIn: udpPacket() });
          reader.consume();
        }
        t.diagnostic(`one page per CPU, ${emitted() - beforeFlood} samples at once and after: ${samples.length - beforeFlood} delivered, ${lost} lost`);
        assert.ok(lost > 0, 'a one-page buffer overflows');
        assert.ok(emitted() >= beforeFlood + flood);
        assert.equal(samples.length + lost, emitted(), 'every sample was delivered or reported lost');
        assert.equal(reader.stats.lost, lost);
        assert.throws(() => new PerfBufferReader(object.map('perf').fd, 3, () => undefined), /power of two/);
      } finally {
        restoreAffinity();
        reader.close();
      }
    });
  });

  test('traceLines reads bpf_printk output from trace_pipe and stops when asked', { timeout: 15_000 }, (t) => {
    if (!requireKernel(t)) return;
    return withEvents(['print_marker'], async (object) => {
      const controller = new AbortController();
      const marker = `ebst-marker ${process.pid}`;
      const lines = traceLines({ signal: controller.signal });
      const found = (async () => {
        for await (const line of lines) if (line.includes(marker)) return line;
        return undefined;
      })();
      // trace_pipe is one kernel-wide stream: another reader may take a line, so the marker repeats.
      const printer = setInterval(() => testRun(object.program('print_marker').fd, { dataIn: udpPacket() }), 100);
      const timer = setTimeout(() => controller.abort(), 5000);
      const line = await found;
      clearInterval(printer);
      clearTimeout(timer);
      controller.abort();
      assert.match(line ?? '', new RegExp(`bpf_trace_printk: ${marker}`));
    });
  });

  test('enableStats: run counts and time grow while the kernel-wide stats fd is held', (t) => {
    if (!requireKernel(t)) return;
    return withEvents(['ring_emit', 'on_getppid'], (object) => {
      const tp = attachTracepoint(object.program('on_getppid'), 'syscalls', 'sys_enter_getppid');
      const fd = object.program('on_getppid').fd;
      try {
        const stats = enableStats();
        const statsFd = `/proc/self/fd/${stats.fd}`;
        try {
          assert.equal(readlinkSync(statsFd), 'anon_inode:bpf-stats');
          const before = programStats(fd).runCnt;
          for (let i = 0; i < 100; i++) assert.ok(process.ppid > 0);
          const after = programStats(fd);
          t.diagnostic(`tracepoint program: ${after.runCnt - before} runs counted, ${after.avgNs.toFixed(0)} ns/run`);
          assert.ok(after.runCnt - before >= 100n && after.runTimeNs > 0n);
          const ring = object.program('ring_emit').fd;
          const runs = programStats(ring).runCnt;
          testRun(ring, { dataIn: udpPacket(), repeat: 10 });
          assert.equal(programStats(ring).runCnt - runs, 10n, 'test runs are counted too');
        } finally {
          stats.close();
          stats.close();
        }
        // Other processes may hold their own stats fd (it is kernel-wide), so only our fd is checked.
        assert.notEqual(existsSync(statsFd) ? readlinkSync(statsFd) : '', 'anon_inode:bpf-stats', 'close() released the stats fd');
      } finally {
        tp.detach();
      }
    });
  });

  test('testRun returns the verdict, the packet and the mean time; sock_addr programs say they cannot be test-run', (t) => {
    if (!requireKernel(t)) return;
    const counters = loadFixture('counters', { settings: { udp_port: 9 } });
    const connect = loadFixture('connect4');
    try {
      const packet = udpPacket();
      const result = testRun(counters.program('xdp_count').fd, { dataIn: packet, repeat: 10_000 });
      t.diagnostic(`xdp_count: ${result.durationNs} ns/run`);
      assert.equal(result.retval, 2, 'XDP_PASS');
      assert.deepEqual(result.dataOut, packet);
      assert.equal(readU64(mapLookup(counters.map('counts').fd, u32(0))), 10_000n);
      assert.throws(() => testRun(connect.program('connect_vip').fd, {}), (err: unknown) => err instanceof NotSupportedError && /real sockets in a cgroup|test cgroup/.test(err.message));
      assert.throws(() => testRun(counters.program('xdp_count').fd, { dataIn: new Uint8Array(4) }), /14-byte Ethernet header/);
    } finally {
      counters.close();
      connect.close();
    }
  });
});

/** Pins the calling thread to the CPU it runs on now (sched_setaffinity); returns the undo. */
function pinToOneCpu(): () => void {
  const koffi = require('koffi') as { load(name: string): { func(decl: string): (...args: unknown[]) => number } };
  const libc = koffi.load('libc.so.6');
  const getAffinity = libc.func('int sched_getaffinity(int pid, size_t size, _Out_ uint8_t *mask)');
  const setAffinity = libc.func('int sched_setaffinity(int pid, size_t size, const uint8_t *mask)');
  const getCpu = libc.func('int sched_getcpu(void)');
  const saved = new Uint8Array(128);
  getAffinity(0, saved.length, saved);
  const cpu = getCpu();
  const only = new Uint8Array(128);
  only[cpu >> 3] = 1 << (cpu & 7);
  setAffinity(0, only.length, only);
  return () => void setAffinity(0, saved.length, saved);
}
