import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { describe, test } from 'node:test';
import { attachCgroup, LoadedObject, mapLookupPerCpu, mapUpdate, type Attachment } from '@ebpf-studio/libbpf-ts';
import { createCgroup, requireKernel } from '@ebpf-studio/test-support';
import { buildFrame, buildPacket, internetChecksum, type FrameSpec } from '@ebpf-studio/test-support';
import { checkManifest, perCpuSum, runFrame, templateSuite, u32, verifyTemplate } from './template-packet-harness';
import { settingsPatches } from './template-socket-harness';
import { encodeRule, encodeRuleKey, SKB_ACTION, SKB_DIR, SKB_PROTO } from '../src/policy/cgroup-skb-layout';

const NAME = 'cgroup-skb-policy';
const DENY = SKB_ACTION.deny;
const ALLOW = SKB_ACTION.allow;
const INGRESS = SKB_DIR.ingress;
const EGRESS = SKB_DIR.egress;
const PROTO = SKB_PROTO;

interface Rule { id: number; dir: number; cidr: string; proto: keyof typeof PROTO; port: number; action: number }

/** struct rule_key (server/src/policy/cgroup-skb-layout.ts): dir, proto and port are the first 32 prefix bits; IPv4 is looked up as ::ffff:a.b.c.d. */
function ruleKey(rule: Omit<Rule, 'id' | 'action'>): Uint8Array {
  return encodeRuleKey({ direction: rule.dir === INGRESS ? 'ingress' : 'egress', cidr: rule.cidr, protocol: rule.proto, port: rule.port });
}

/** struct rule */
function ruleValue(id: number, action: number): Uint8Array {
  return encodeRule(id, action === ALLOW ? 'allow' : 'deny');
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

class PolicyUnderTest {
  readonly object: LoadedObject;

  constructor(bytes: Uint8Array, settings: Record<string, number>) {
    this.object = LoadedObject.load(bytes, { patches: settingsPatches(bytes, NAME, settings) });
    for (const rule of RULES) {
      mapUpdate(this.object.map('rules').fd, ruleKey(rule), ruleValue(rule.id, rule.action));
    }
  }

  run(dir: number, frame: Uint8Array): { retval: number; out: Uint8Array } {
    return runFrame(this.object.program(dir === INGRESS ? 'policy_ingress' : 'policy_egress').fd, frame);
  }

  counted(map: 'rule_stats' | 'default_stats', index: number): { packets: number; bytes: number } {
    const values = mapLookupPerCpu(this.object.map(map).fd, u32(index));
    return { packets: perCpuSum(values, 0), bytes: perCpuSum(values, 8) };
  }

  close(): void {
    this.object.close();
  }
}

describe('cgroup-skb-policy template', () => {
  const suite = templateSuite(NAME);

  test('template.json describes the object: programs, maps, parameters, files', () => {
    checkManifest(NAME, suite.bytes);
  });

  test('compiles and passes the verifier', async (t) => {
    if (!requireKernel(t)) return;
    const report = await verifyTemplate(NAME, suite, { ingress_default: '0' });
    assert.deepEqual(report.diagnostics.filter((d) => d.severity === 'error'), []);
    assert.deepEqual(report.programs.map((p) => [p.name, p.verdict]), [['policy_ingress', 'accepted'], ['policy_egress', 'accepted']]);
  });

  test('allowed and denied CIDRs, protocols and ports give 1 and 0, and the matching rule counts', (t) => {
    if (!requireKernel(t)) return;
    const policy = new PolicyUnderTest(suite.bytes, { ingress_default: DENY, egress_default: ALLOW });
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
      const policy = new PolicyUnderTest(suite.bytes, { ingress_default: ingressDefault, egress_default: egressDefault });
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
    const policy = new PolicyUnderTest(suite.bytes, { ingress_default: ALLOW, egress_default: ALLOW });
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
        mapUpdate(policy.object.map('rules').fd, ruleKey({ dir: EGRESS, cidr: '127.0.0.2/32', proto, port }), ruleValue(id, DENY));
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
