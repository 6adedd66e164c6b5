import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { attachCgroup, LoadedObject, mapLookupPerCpu, mapUpdate, readBpfObject, testRun, type Attachment } from '@ebpf-studio/libbpf-ts';
import { startLocalAgent, type AgentClient } from '@ebpf-studio/remote-agent';
import { createCgroup, kernelAvailable, requireKernel } from '@ebpf-studio/test-support';
import { buildFrame, buildPacket, internetChecksum, ipBytes, type FrameSpec } from '@ebpf-studio/test-support';
import { verifySource } from '../src/index';
import { compileTemplate, settingsPatches, template } from './template-socket-harness';

const NAME = 'cgroup-skb-policy';
const DENY = 0;
const ALLOW = 1;
const INGRESS = 0;
const EGRESS = 1;
const PROTO = { any: 0, tcp: 6, udp: 17, icmp: 1 } as const;

interface Rule { id: number; dir: number; cidr: string; proto: keyof typeof PROTO; port: number; action: number }

/** struct rule_key: dir, proto and port are the first 32 prefix bits; IPv4 is looked up as ::ffff:a.b.c.d. */
function ruleKey(rule: Omit<Rule, 'id' | 'action'>): Uint8Array {
  const [addr, bits] = rule.cidr.split('/') as [string, string];
  const raw = ipBytes(addr);
  const key = Buffer.alloc(24);
  const v4 = raw.length === 4;
  key.writeUInt32LE(32 + (v4 ? 96 : 0) + Number(bits), 0);
  key[4] = rule.dir;
  key[5] = PROTO[rule.proto];
  key.writeUInt16BE(rule.port, 6);
  if (v4) {
    key[18] = 0xff;
    key[19] = 0xff;
    key.set(raw, 20);
  } else {
    key.set(raw, 8);
  }
  return new Uint8Array(key);
}

function u32(n: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return new Uint8Array(b);
}

const RULES: Rule[] = [
  { id: 2, dir: INGRESS, cidr: '10.0.0.0/8', proto: 'tcp', port: 443, action: ALLOW },
  { id: 3, dir: INGRESS, cidr: '10.66.0.0/16', proto: 'any', port: 0, action: DENY },
  { id: 4, dir: INGRESS, cidr: '10.66.7.0/24', proto: 'any', port: 0, action: ALLOW },
  { id: 5, dir: INGRESS, cidr: '192.0.2.0/24', proto: 'udp', port: 0, action: DENY },
  { id: 6, dir: INGRESS, cidr: '2001:db8::/32', proto: 'tcp', port: 22, action: ALLOW },
  { id: 7, dir: INGRESS, cidr: '2001:db8:bad::/48', proto: 'any', port: 0, action: DENY },
  { id: 8, dir: EGRESS, cidr: '203.0.113.0/24', proto: 'tcp', port: 25, action: DENY },
  { id: 9, dir: EGRESS, cidr: '0.0.0.0/0', proto: 'icmp', port: 0, action: DENY },
];

/** A packet, the direction it is judged in, the verdict and the rule that must count it (undefined: the default). */
const CASES: { name: string; dir: number; spec: FrameSpec; verdict: number; rule?: number }[] = [
  { name: 'allowed CIDR and port', dir: INGRESS, spec: { src: '10.66.1.1', dst: '10.9.9.9', proto: 'tcp', sport: 5000, dport: 443 }, verdict: ALLOW, rule: 2 },
  { name: 'port rule before protocol-wide deny', dir: INGRESS, spec: { src: '10.66.1.1', dst: '10.9.9.9', proto: 'tcp', sport: 5000, dport: 80 }, verdict: DENY, rule: 3 },
  { name: 'longest prefix within a level', dir: INGRESS, spec: { src: '10.66.7.9', dst: '10.9.9.9', proto: 'udp', sport: 5000, dport: 53 }, verdict: ALLOW, rule: 4 },
  { name: 'denied UDP from a CIDR, every port', dir: INGRESS, spec: { src: '192.0.2.77', dst: '10.9.9.9', proto: 'udp', sport: 5000, dport: 53 }, verdict: DENY, rule: 5 },
  { name: 'TCP from that CIDR falls to the default', dir: INGRESS, spec: { src: '192.0.2.77', dst: '10.9.9.9', proto: 'tcp', sport: 5000, dport: 53 }, verdict: DENY },
  { name: 'IPv6 allowed port', dir: INGRESS, spec: { src: '2001:db8:bad::1', dst: '2001:db8::9', proto: 'tcp', sport: 5000, dport: 22 }, verdict: ALLOW, rule: 6 },
  { name: 'IPv6 denied /48', dir: INGRESS, spec: { src: '2001:db8:bad::1', dst: '2001:db8::9', proto: 'tcp', sport: 5000, dport: 80 }, verdict: DENY, rule: 7 },
  { name: 'egress port deny by destination', dir: EGRESS, spec: { src: '10.9.9.9', dst: '203.0.113.5', proto: 'tcp', sport: 5000, dport: 25 }, verdict: DENY, rule: 8 },
  { name: 'egress elsewhere: default allow', dir: EGRESS, spec: { src: '10.9.9.9', dst: '203.0.113.5', proto: 'tcp', sport: 5000, dport: 443 }, verdict: ALLOW },
  { name: 'a later fragment has no port: port rules do not apply', dir: INGRESS, spec: { src: '10.66.1.1', dst: '10.9.9.9', proto: 'tcp', sport: 5000, dport: 443, fragmentOffset: 10 }, verdict: DENY, rule: 3 },
];

function icmpEcho(src: string, dst: string): Uint8Array {
  const udpShaped = buildPacket({ src, dst, proto: 'udp', sport: 0, dport: 0 });
  udpShaped[9] = PROTO.icmp;
  const ip = Buffer.from(udpShaped);
  ip.writeUInt16BE(0, 10);
  ip.writeUInt16BE(internetChecksum(ip.subarray(0, 20)), 10);
  return new Uint8Array(ip);
}

function checkManifest(bytes: Uint8Array): void {
  const manifest = template(NAME);
  const { spec } = readBpfObject(bytes);
  assert.deepEqual(spec.programs.map((p) => [p.name, p.section]), manifest.programs.map((p) => [p.name, p.section]));
  const maps = (rows: string[][]): string[][] => rows.sort((a, b) => a[0]!.localeCompare(b[0]!));
  assert.deepEqual(maps(spec.maps.map((m) => [m.name, m.type, m.keyType ?? '', m.valueType ?? ''])), maps(manifest.maps.map((m) => [m.name, m.type, m.key ?? '', m.value])));
  const settings = spec.globals.filter((g) => g.section === '.rodata');
  assert.deepEqual(settings.map((g) => [g.name, g.typeName.replace(/^const volatile /, '')]), manifest.parameters.map((p) => [p.name, p.type]));
  for (const p of manifest.parameters) if (typeof p.default === 'number') assert.equal(Number(settings.find((g) => g.name === p.name)!.initialValue), p.default, p.name);
  for (const f of [...manifest.files, ...manifest.commonHeaders.map((h) => join('..', 'common', h))]) assert.ok(existsSync(join(manifest.dir, f)), f);
}

class PolicyUnderTest {
  readonly object: LoadedObject;

  constructor(bytes: Uint8Array, settings: Record<string, number>) {
    this.object = LoadedObject.load(bytes, { patches: settingsPatches(bytes, NAME, settings) });
    for (const rule of RULES) {
      const value = Buffer.alloc(8);
      value.writeUInt32LE(rule.id, 0);
      value.writeUInt32LE(rule.action, 4);
      mapUpdate(this.object.map('rules').fd, ruleKey(rule), new Uint8Array(value));
    }
  }

  run(dir: number, frame: Uint8Array): { retval: number; out: Uint8Array } {
    const r = testRun(this.object.program(dir === INGRESS ? 'policy_ingress' : 'policy_egress').fd, { dataIn: frame });
    return { retval: r.retval, out: r.dataOut };
  }

  counted(map: 'rule_stats' | 'default_stats', index: number): { packets: number; bytes: number } {
    const values = mapLookupPerCpu(this.object.map(map).fd, u32(index)) ?? [];
    const sum = (offset: number): number => values.reduce((n, v) => n + Number(Buffer.from(v).readBigUInt64LE(offset)), 0);
    return { packets: sum(0), bytes: sum(8) };
  }

  close(): void {
    this.object.close();
  }
}

describe('cgroup-skb-policy template', () => {
  let bytes: Uint8Array;
  let agent: AgentClient | undefined;

  before(() => {
    bytes = compileTemplate(NAME);
    if (kernelAvailable()) agent = startLocalAgent();
  });
  after(() => agent?.dispose());

  test('template.json describes the object: programs, maps, parameters, files', () => {
    checkManifest(bytes);
  });

  test('compiles and passes the verifier', async (t) => {
    if (!requireKernel(t)) return;
    const file = join(template(NAME).dir, template(NAME).source);
    const report = await verifySource(readFileSync(file, 'utf8'), file, { agent: agent!, sets: { ingress_default: '0' } });
    assert.deepEqual(report.diagnostics.filter((d) => d.severity === 'error'), []);
    assert.deepEqual(report.programs.map((p) => [p.name, p.verdict]), [['policy_ingress', 'accepted'], ['policy_egress', 'accepted']]);
  });

  test('allowed and denied CIDRs, protocols and ports give 1 and 0, and the matching rule counts', (t) => {
    if (!requireKernel(t)) return;
    const policy = new PolicyUnderTest(bytes, { ingress_default: DENY, egress_default: ALLOW });
    try {
      for (const c of CASES) {
        const frame = buildFrame(c.spec);
        const ipLength = frame.length - 14;
        const before = c.rule === undefined ? policy.counted('default_stats', c.dir) : policy.counted('rule_stats', c.rule);
        const { retval, out } = policy.run(c.dir, frame);
        assert.equal(retval, c.verdict, c.name);
        assert.deepEqual(out.subarray(14), frame.subarray(14), `${c.name}: the packet is not changed`);
        const after = c.rule === undefined ? policy.counted('default_stats', c.dir) : policy.counted('rule_stats', c.rule);
        assert.deepEqual(after, { packets: before.packets + 1, bytes: before.bytes + ipLength }, `${c.name}: counted`);
      }
      const ping = buildFrame({ src: '10.9.9.9', dst: '198.51.100.1', proto: 'udp', sport: 0, dport: 0 });
      ping.set(icmpEcho('10.9.9.9', '198.51.100.1'), 14);
      assert.equal(policy.run(EGRESS, ping).retval, DENY, 'ICMP matches the protocol-wide rule for every address');
      assert.equal(policy.counted('rule_stats', 9).packets, 1);
    } finally {
      policy.close();
    }
  });

  test('the defaults decide when nothing matches', (t) => {
    if (!requireKernel(t)) return;
    const spec: FrameSpec = { src: '172.16.0.1', dst: '10.9.9.9', proto: 'tcp', sport: 1, dport: 2 };
    for (const [ingressDefault, egressDefault] of [[ALLOW, DENY], [DENY, ALLOW]] as const) {
      const policy = new PolicyUnderTest(bytes, { ingress_default: ingressDefault, egress_default: egressDefault });
      try {
        assert.equal(policy.run(INGRESS, buildFrame(spec)).retval, ingressDefault);
        assert.equal(policy.run(EGRESS, buildFrame(spec)).retval, egressDefault);
        assert.equal(policy.counted('default_stats', INGRESS).packets, 1);
        assert.equal(policy.counted('default_stats', EGRESS).packets, 1);
      } finally {
        policy.close();
      }
    }
  });

  test('attached to a cgroup: denied 127.0.0.2:port refuses UDP (EPERM) and stalls a TCP connect; 127.0.0.1 works', async (t) => {
    if (!requireKernel(t)) return;
    const policy = new PolicyUnderTest(bytes, { ingress_default: ALLOW, egress_default: ALLOW });
    const cgroup = createCgroup('skbpolicy');
    const servers: Server[] = [];
    let link: Attachment | undefined;
    try {
      const listen = (host: string, port = 0): Promise<number> => new Promise((resolve, reject) => {
        const server = createServer((s) => s.end()).once('error', reject);
        servers.push(server);
        server.listen(port, host, () => resolve((server.address() as { port: number }).port));
      });
      const port = await listen('127.0.0.1');
      await listen('127.0.0.2', port);
      for (const [id, proto] of [[11, 'tcp'], [12, 'udp']] as const) {
        const value = Buffer.alloc(8);
        value.writeUInt32LE(id, 0);
        value.writeUInt32LE(DENY, 4);
        mapUpdate(policy.object.map('rules').fd, ruleKey({ dir: EGRESS, cidr: '127.0.0.2/32', proto, port }), new Uint8Array(value));
      }
      link = attachCgroup(policy.object.program('policy_egress'), cgroup.path);
      // The kernel finishes the TCP handshake from its listen backlog, so a blocked event loop here is fine.
      const inCgroup = (script: string): string => cgroup.exec(process.execPath, ['-e', script], { timeoutMs: 10_000 }).trim();
      const connect = (host: string): string => inCgroup(`
        const s = require('net').connect(${port}, '${host}');
        s.on('connect', () => { console.log('connected'); s.destroy(); });
        s.on('error', (e) => console.log(e.code));
        setTimeout(() => { console.log('no answer'); process.exit(0); }, 1000).unref();`);
      const send = (host: string): string => inCgroup(`
        const s = require('dgram').createSocket('udp4');
        s.send(Buffer.from('x'), ${port}, '${host}', (e) => { console.log(e ? e.code : 'sent'); s.close(); });`);
      assert.equal(connect('127.0.0.1'), 'connected');
      assert.equal(send('127.0.0.1'), 'sent');
      assert.equal(connect('127.0.0.2'), 'no answer', 'the SYN is dropped (TCP retransmits it)');
      assert.equal(send('127.0.0.2'), 'EPERM');
      assert.ok(policy.counted('rule_stats', 11).packets >= 1, 'the TCP deny rule counted the SYN');
      assert.equal(policy.counted('rule_stats', 12).packets, 1, 'the UDP deny rule counted the datagram');
    } finally {
      link?.detach();
      for (const s of servers) s.close();
      cgroup.remove();
      policy.close();
    }
  });
});
