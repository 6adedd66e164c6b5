import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { createNetnsPair, type NetnsPair, requireKernel, runCommand } from '@ebpf-studio/test-support';
import { attachTcClsact } from '../src/kernel/attach/tc-clsact';
import { attachTcx } from '../src/kernel/attach/tcx';
import { attachXdp } from '../src/kernel/attach/xdp';
import type { Attachment, AttachRecord } from '../src/kernel/attach/attachment';
import { detachRecord } from '../src/kernel/attach/detach-record';
import { mapLookup, mapLookupPerCpu } from '../src/kernel/maps';
import type { LoadedObject } from '../src/kernel/loaded-object';
import { loadFixture, readU64, u32 } from './data/attach/fixtures';

const PORT = 9999;
const AT_XDP = 0;
const AT_TC = 1;
const PACKETS = 40;

/** Sends `count` UDP datagrams from b's namespace to a's address (after one warm-up to resolve ARP). */
function sendUdp(pair: NetnsPair, count: number): void {
  const script = `
    const s = require('dgram').createSocket('udp4');
    const send = (port) => new Promise((ok, fail) => s.send('x'.repeat(32), port, '${pair.a.address}', (e) => (e ? fail(e) : ok())));
    (async () => {
      await send(${PORT + 1});
      await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < ${count}; i++) await send(${PORT});
      s.close();
    })();`;
  pair.b.netns!.exec(process.execPath, ['-e', script], { timeoutMs: 10_000 });
}

function counter(object: LoadedObject, at: number): bigint {
  return readU64(mapLookup(object.map('counts').fd, u32(at)));
}

/** Runs fn with a fresh namespace pair and counter object, then removes everything it made. */
function withSetup(fn: (pair: NetnsPair, object: LoadedObject, attachments: Attachment[]) => void): void {
  const pair = createNetnsPair({ tag: 'attach' });
  const object = loadFixture('counters', { settings: { udp_port: PORT } });
  const attachments: Attachment[] = [];
  try {
    fn(pair, object, attachments);
  } finally {
    for (const a of attachments) a.detach();
    object.close();
    pair.remove();
  }
}

function linkExists(id: number): boolean {
  return spawnSync('bpftool', ['link', 'show', 'id', String(id)]).status === 0;
}

describe('attaching to a veth in a test namespace (real packets)', () => {
  test('XDP (native and generic) counts the UDP packets sent from the peer namespace', (t) => {
    if (!requireKernel(t)) return;
    withSetup((pair, object, attachments) => {
      const prog = object.program('xdp_count');
      const started = performance.now();
      const xdp = attachXdp(prog, pair.a.ifindex, { mode: 'native', netns: pair.a.netns!.path });
      attachments.push(xdp);
      t.diagnostic(`xdp native attach: ${(performance.now() - started).toFixed(2)} ms, link ${xdp.linkId}`);
      assert.equal(xdp.kind, 'xdp');
      assert.ok(xdp.linkId! > 0 && linkExists(xdp.linkId!));
      assert.match(pair.a.netns!.exec('bpftool', ['net']), /xdp:\n.*driver id/);
      sendUdp(pair, PACKETS);
      assert.equal(counter(object, AT_XDP), BigInt(PACKETS));
      const perCpu = mapLookupPerCpu(object.map('cpu_counts').fd, u32(AT_XDP))!;
      assert.equal(perCpu.reduce((sum, v) => sum + readU64(v), 0n), BigInt(PACKETS), 'the per-CPU slots add up');

      const pin = `/sys/fs/bpf/ebst-xdp-link-${process.pid}`;
      xdp.pin!(pin);
      assert.ok(existsSync(pin));
      xdp.detach();
      assert.equal(existsSync(pin), false, 'detach removes the pin');
      assert.equal(linkExists(xdp.linkId!), false);
      const generic = attachXdp(prog, pair.a.ifindex, { mode: 'generic', netns: pair.a.netns!.path });
      attachments.push(generic);
      assert.match(pair.a.netns!.exec('bpftool', ['net']), /xdp:\n.*generic id/);
      sendUdp(pair, PACKETS);
      assert.equal(counter(object, AT_XDP), BigInt(2 * PACKETS));
    });
  });

  test('a second XDP program on the same interface is refused with a fix', (t) => {
    if (!requireKernel(t)) return;
    withSetup((pair, object, attachments) => {
      const prog = object.program('xdp_count');
      attachments.push(attachXdp(prog, pair.a.ifindex, { mode: 'native', netns: pair.a.netns!.path }));
      assert.throws(() => attachXdp(prog, pair.a.ifindex, { mode: 'native', netns: pair.a.netns!.path }), /another XDP program is attached/);
      assert.throws(() => attachXdp(prog, 999_999, { mode: 'native', netns: pair.a.netns!.path }), /ifindex must exist in that network namespace/);
    });
  });

  test('tcx ingress counts packets and leaves no link behind', (t) => {
    if (!requireKernel(t)) return;
    withSetup((pair, object, attachments) => {
      const started = performance.now();
      const tcx = attachTcx(object.program('tc_count'), pair.a.ifindex, 'ingress', { netns: pair.a.netns!.path });
      attachments.push(tcx);
      t.diagnostic(`tcx attach: ${(performance.now() - started).toFixed(2)} ms, link ${tcx.linkId}`);
      // bpftool 7.1 predates tcx: it shows the link as `type 11`.
      assert.match(runCommand('bpftool', ['link', 'show', 'id', String(tcx.linkId)]), /type 11|tcx/);
      sendUdp(pair, PACKETS);
      assert.equal(counter(object, AT_TC), BigInt(PACKETS));
      detachRecord(JSON.parse(JSON.stringify(tcx.record)) as AttachRecord);
      tcx.detach();
      assert.equal(linkExists(tcx.linkId!), false, 'detached from its journal record');
      sendUdp(pair, 5);
      assert.equal(counter(object, AT_TC), BigInt(PACKETS), 'nothing counts after detach');
    });
  });

  test('the clsact fallback counts packets, refuses priority 1, and detaching leaves no filter', (t) => {
    if (!requireKernel(t)) return;
    withSetup((pair, object, attachments) => {
      const prog = object.program('tc_count');
      const ns = pair.a.netns!;
      assert.throws(() => attachTcClsact(prog, pair.a.ifindex, 'ingress', { priority: 1, netns: ns.path }), /priority 1 is not allowed/);
      const started = performance.now();
      const tc = attachTcClsact(prog, pair.a.ifindex, 'ingress', { priority: 7, handle: 0x77, netns: ns.path });
      attachments.push(tc);
      t.diagnostic(`clsact attach: ${(performance.now() - started).toFixed(2)} ms`);
      assert.deepEqual(tc.record, { type: 'tc', ifindex: pair.a.ifindex, direction: 'ingress', priority: 7, handle: 0x77, netns: ns.path });
      assert.match(ns.exec('tc', ['filter', 'show', 'dev', pair.a.ifname, 'ingress']), /pref 7 bpf .*handle 0x77 tc_count.*direct-action/);
      assert.throws(() => attachTcClsact(prog, pair.a.ifindex, 'ingress', { priority: 7, handle: 0x77, netns: ns.path }), /already sits at this priority/);
      sendUdp(pair, PACKETS);
      assert.equal(counter(object, AT_TC), BigInt(PACKETS));
      tc.detach();
      tc.detach();
      assert.equal(ns.exec('tc', ['filter', 'show', 'dev', pair.a.ifname, 'ingress']).trim(), '');
    });
  });
});
