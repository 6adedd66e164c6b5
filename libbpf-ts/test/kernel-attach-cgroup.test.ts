import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { describe, test } from 'node:test';
import { createCgroup, requireKernel, type TestCgroup } from '@ebpf-studio/test-support';
import { attachCgroup } from '../src/kernel/attach/cgroup';
import { attachSkMsg } from '../src/kernel/attach/sk-msg';
import type { Attachment } from '../src/kernel/attach/attachment';
import { mapLookup } from '../src/kernel/maps';
import type { LoadedObject } from '../src/kernel/loaded-object';
import { loadFixture, readU64, u32 } from './data/attach/fixtures';

/** 127.77.x.y from the pid, so parallel runs use different VIPs. */
const VIP = [127, 77, (process.pid >> 8) & 255, (process.pid & 255) || 1] as const;
const VIP_PORT = 8080;

function networkOrder(bytes: readonly number[]): number {
  return new DataView(Uint8Array.from(bytes).buffer).getUint32(0, true);
}

function output(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

const connectScript = (host: string, port: number): string => `
  const s = require('net').connect(${port}, '${host}');
  let got = '';
  s.on('data', (d) => (got += d));
  s.on('end', () => { console.log('got:' + got); });
  s.on('error', (e) => { console.log('error:' + e.code); });`;

async function withCgroup(fn: (cgroup: TestCgroup, attachments: Attachment[]) => Promise<void>, objects: LoadedObject[]): Promise<void> {
  const cgroup = createCgroup('attach');
  const attachments: Attachment[] = [];
  try {
    await fn(cgroup, attachments);
  } finally {
    for (const a of attachments) a.detach();
    for (const o of objects) o.close();
    cgroup.remove();
  }
}

function cgroupProgs(path: string): string {
  return spawnSync('bpftool', ['cgroup', 'show', path], { encoding: 'utf8' }).stdout;
}

describe('cgroup programs on a test cgroup (real sockets in a child process)', () => {
  test('cgroup/connect4 rewrites a connect to a VIP in 127.0.0.0/8 onto a 127.0.0.1 listener', async (t) => {
    if (!requireKernel(t)) return;
    const server = createServer((socket) => socket.end('backend says hi'));
    const backendPort = await listen(server);
    const object = loadFixture('connect4', { settings: { vip_addr: networkOrder(VIP), vip_port: VIP_PORT, backend_port: backendPort } });
    try {
      await withCgroup(async (cgroup, attachments) => {
        const started = performance.now();
        const link = attachCgroup(object.program('connect_vip'), cgroup.path);
        attachments.push(link);
        t.diagnostic(`cgroup attach: ${(performance.now() - started).toFixed(2)} ms, link ${link.linkId} on ${link.target}`);
        assert.match(link.target, /connect4$/);
        assert.match(cgroupProgs(cgroup.path), /cgroup_inet4_connect.*connect_vip/);
        const vip = VIP.join('.');
        const rewritten = await output(cgroup.spawn(process.execPath, ['-e', connectScript(vip, VIP_PORT)]));
        assert.equal(rewritten.stdout.trim(), 'got:backend says hi', rewritten.stderr);
        assert.equal(readU64(mapLookup(object.map('rewrites').fd, u32(0))), 1n);

        link.detach();
        assert.equal(cgroupProgs(cgroup.path).trim(), '');
        const plain = await output(cgroup.spawn(process.execPath, ['-e', connectScript(vip, VIP_PORT)]));
        assert.equal(plain.stdout.trim(), 'error:ECONNREFUSED', 'without the program the VIP has no listener');
      }, []);
    } finally {
      object.close();
      server.close();
    }
  });

  test('sockops puts a local TCP pair into a sockhash and sk_msg sees its messages', async (t) => {
    if (!requireKernel(t)) return;
    const object = loadFixture('sockmap');
    await withCgroup(async (cgroup, attachments) => {
      const msg = attachSkMsg(object.program('count_msg'), object.map('socks').fd);
      attachments.push(msg);
      t.diagnostic(`sk_msg: ${msg.linkId === undefined ? `bpf_prog_attach (${msg.note})` : `bpf_link ${msg.linkId}`}`);
      attachments.push(attachCgroup(object.program('track'), cgroup.path, 'sock_ops'));
      const script = `
        const net = require('net');
        const server = net.createServer((s) => { let n = 0; s.on('data', (d) => (n += d.length)); s.on('end', () => { console.log('received:' + n); server.close(); }); });
        server.listen(0, '127.0.0.1', async () => {
          const c = net.connect(server.address().port, '127.0.0.1');
          await new Promise((r) => c.once('connect', r));
          for (let i = 0; i < 10; i++) { c.write('message-' + i + ';'); await new Promise((r) => setTimeout(r, 5)); }
          c.end();
        });`;
      const result = await output(cgroup.spawn(process.execPath, ['-e', script]));
      const bytes = 10 * 'message-0;'.length;
      assert.equal(result.stdout.trim(), `received:${bytes}`, result.stderr);
      const stat = (i: number): bigint => readU64(mapLookup(object.map('stats').fd, u32(i)));
      assert.equal(stat(0), 2n, 'both ends were added to the sockhash');
      assert.ok(stat(1) >= 10n, `sk_msg ran for each of the 10 writes (ran ${stat(1)} times)`);
      assert.equal(stat(2), BigInt(bytes));
    }, [object]);
  });

  test('a cgroup attach with the wrong hook names the fix', (t) => {
    if (!requireKernel(t)) return;
    const object = loadFixture('connect4');
    const cgroup = createCgroup('attach');
    try {
      assert.throws(() => attachCgroup(object.program('connect_vip'), cgroup.path, 'sock_ops'), /type must match the hook 'sock_ops'/);
      assert.throws(() => attachCgroup(object.program('connect_vip'), `${cgroup.path}-missing`), /cannot open cgroup/);
    } finally {
      object.close();
      cgroup.remove();
    }
  });
});
