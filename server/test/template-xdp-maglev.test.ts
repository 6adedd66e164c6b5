import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LoadedObject, mapDelete, mapKeys, mapLookup, mapLookupPerCpu, mapUpdate } from '@ebpf-studio/libbpf-ts';
import { requireKernel } from '@ebpf-studio/test-support';
import { buildFrame, buildPacket, checksumProblems, encapsulate, frameOf, ipBytes, parseFrame, type FrameSpec } from '@ebpf-studio/test-support';
import { buildMaglevTable, flowHash, MAGLEV_DEFAULT_SIZE } from '../src/policy/maglev';
import { encodeFlowKey, encodeGatewayBackend, encodeVipKey, encodeVipMeta, GW_STAT } from '../src/policy/gateway-layout';
import { checkManifest, fillRing, perCpuSum, runFrame, templateSuite, u32, verifyTemplate } from './template-packet-harness';
import { settingsPatches } from './template-socket-harness';

const NAME = 'xdp-maglev-gateway';
const XDP_DROP = 1;
const XDP_PASS = 2;
const XDP_TX = 3;
const AF_INET = 2;
const AF_INET6 = 10;
const STAT = GW_STAT;
const RING = MAGLEV_DEFAULT_SIZE;
const OUR_MAC = '02:00:00:00:00:02';
const CLIENT_MAC = '02:00:00:00:00:01';
const ENCAP_SRC4 = '192.0.2.1';
const ENCAP_SRC6 = 'fd00:ffff::1';
/** Disruption bound asserted when one of GATEWAYS is removed: other flows that move, in % of them. */
const MAX_DISRUPTION_PERCENT = 1;

interface Gateway { id: number; addr: string; mac: string; weight: number }
const GATEWAYS: Gateway[] = [
  { id: 0, addr: '198.51.100.10', mac: '0a:00:00:00:00:10', weight: 3 },
  { id: 1, addr: '198.51.100.11', mac: '0a:00:00:00:00:11', weight: 2 },
  { id: 2, addr: '198.51.100.12', mac: '0a:00:00:00:00:12', weight: 2 },
  { id: 3, addr: '198.51.100.13', mac: '0a:00:00:00:00:13', weight: 1 },
  { id: 4, addr: '198.51.100.14', mac: '0a:00:00:00:00:14', weight: 1 },
];
const GATEWAY6: Gateway = { id: 7, addr: 'fd00:77::7', mac: '0a:00:00:00:00:77', weight: 1 };

function familyOf(addr: string): number {
  return ipBytes(addr).length === 4 ? AF_INET : AF_INET6;
}

/** struct vip_key (server/src/policy/gateway-layout.ts) */
function vipKey(addr: string, port: number, proto: 'tcp' | 'udp'): Uint8Array {
  return encodeVipKey(addr, port, proto);
}

/** struct backend */
function backendValue(gw: Gateway, up = true): Uint8Array {
  return encodeGatewayBackend(gw.addr, gw.mac, up);
}

/** struct flow_key of a frame spec: what the program hashes and pins. */
function flowKey(spec: FrameSpec): Uint8Array {
  return encodeFlowKey(spec.src, spec.dst, spec.sport, spec.dport, spec.proto);
}

/** A deterministic stream of flows to one VIP. */
function flows(count: number, vip: string, dport: number, seed = 1): FrameSpec[] {
  let x = seed;
  const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  return Array.from({ length: count }, () => {
    const r = next();
    return { src: `10.${(r >>> 24) & 255}.${(r >>> 16) & 255}.${(r >>> 8) & 255 || 1}`, dst: vip, proto: 'tcp', sport: 1024 + (next() % 60000), dport, dstMac: OUR_MAC, srcMac: CLIENT_MAC } as FrameSpec;
  });
}

class GatewayUnderTest {
  readonly object: LoadedObject;
  private readonly prog: number;
  private readonly vipIndex = new Map<string, number>();

  /** Settings go through the engine's --set path, encap_saddr6 (format ipv6) too. */
  constructor(bytes: Uint8Array, settings: Record<string, number | string>, encapSaddr6: string) {
    this.object = LoadedObject.load(bytes, { patches: settingsPatches(bytes, NAME, { ...settings, encap_saddr6: encapSaddr6 }) });
    this.prog = this.object.program('xdp_maglev_gateway').fd;
  }

  fd(map: string): number {
    return this.object.map(map).fd;
  }

  /** A VIP keeps its vip_table index when its ring changes; a new VIP takes the next index. */
  addVip(addr: string, port: number, proto: 'tcp' | 'udp', ring: number): void {
    const key = vipKey(addr, port, proto);
    const name = Buffer.from(key).toString('hex');
    const index = this.vipIndex.get(name) ?? this.vipIndex.size;
    this.vipIndex.set(name, index);
    mapUpdate(this.fd('vip_table'), u32(index), encodeVipMeta(key, ring));
    mapUpdate(this.fd('vips'), key, u32(index));
  }

  /** Removes a VIP as the engine would: its name from vips, its description from vip_table. */
  removeVip(addr: string, port: number, proto: 'tcp' | 'udp'): void {
    const key = vipKey(addr, port, proto);
    const index = this.vipIndex.get(Buffer.from(key).toString('hex'))!;
    mapDelete(this.fd('vips'), key);
    mapUpdate(this.fd('vip_table'), u32(index), new Uint8Array(24));
  }

  setBackend(gw: Gateway, up = true): void {
    mapUpdate(this.fd('backends'), u32(gw.id), backendValue(gw, up));
  }

  setRing(ring: number, table: Uint32Array): void {
    assert.equal(fillRing(this.fd('maglev_rings'), ring, table), table.length);
  }

  run(frame: Uint8Array): { retval: number; out: Uint8Array } {
    return runFrame(this.prog, frame);
  }

  /** The backend a flow went to, read from the outer destination address. */
  gatewayOf(spec: FrameSpec, gateways: readonly Gateway[]): number {
    const { retval, out } = this.run(buildFrame(spec));
    assert.equal(retval, XDP_TX);
    const outer = parseFrame(out).ip[0]!;
    const gw = gateways.find((g) => g.addr === outer.dst);
    assert.ok(gw, `outer destination ${outer.dst} is a gateway`);
    return gw.id;
  }

  stat(index: number): number {
    return perCpuSum(mapLookupPerCpu(this.fd('gateway_stats'), u32(index)));
  }

  backendPackets(id: number): number {
    return perCpuSum(mapLookupPerCpu(this.fd('backend_stats'), u32(id)));
  }

  pinned(spec: FrameSpec): number | undefined {
    const v = mapLookup(this.fd('flows'), flowKey(spec));
    return v && Buffer.from(v).readUInt32LE(0);
  }

  clearFlows(): void {
    for (;;) {
      const { keys } = mapKeys(this.fd('flows'), { limit: 1000 });
      if (keys.length === 0) return;
      for (const k of keys) mapDelete(this.fd('flows'), k);
    }
  }

  close(): void {
    this.object.close();
  }
}

describe('xdp-maglev-gateway template (BPF_PROG_TEST_RUN)', () => {
  const suite = templateSuite(NAME);
  const gwTable = buildMaglevTable(GATEWAYS, RING);

  function gateway(mtu = 1500): GatewayUnderTest {
    const gw = new GatewayUnderTest(suite.bytes, { ring_size: RING, encap_saddr4: ENCAP_SRC4, mtu }, ENCAP_SRC6);
    for (const g of [...GATEWAYS, GATEWAY6]) gw.setBackend(g);
    gw.setRing(0, gwTable);
    gw.setRing(2, buildMaglevTable([GATEWAY6], RING));
    gw.addVip('203.0.113.20', 80, 'tcp', 0);
    gw.addVip('203.0.113.20', 0, 'udp', 0);
    gw.addVip('2001:db8::20', 443, 'tcp', 0);
    gw.addVip('203.0.113.66', 80, 'tcp', 2);
    gw.addVip('2001:db8::66', 443, 'tcp', 2);
    return gw;
  }

  test('template.json describes the object: programs, maps, parameters, files', () => {
    checkManifest(NAME, suite.bytes);
  });

  test('compiles and passes the verifier', async (t) => {
    if (!requireKernel(t)) return;
    const report = await verifyTemplate(NAME, suite, { ring_size: '251', mtu: '9000' });
    assert.deepEqual(report.diagnostics.filter((d) => d.severity === 'error'), []);
    assert.deepEqual(report.programs.map((p) => [p.name, p.verdict]), [['xdp_maglev_gateway', 'accepted']]);
  });

  test('an IPv4 SYN to the VIP leaves IPIP-encapsulated towards the Maglev-chosen gateway, byte for byte', (t) => {
    if (!requireKernel(t)) return;
    const gw = gateway();
    try {
      const spec: FrameSpec = { src: '10.1.2.3', dst: '203.0.113.20', proto: 'tcp', sport: 40000, dport: 80, tos: 0x28, dstMac: OUR_MAC, srcMac: CLIENT_MAC, payload: Buffer.from('hello') };
      const chosen = GATEWAYS.find((g) => g.id === gwTable[flowHash(flowKey(spec)) % RING])!;
      const { retval, out } = gw.run(buildFrame(spec));
      assert.equal(retval, XDP_TX);
      const expected = frameOf(encapsulate(buildPacket(spec), { src: ENCAP_SRC4, dst: chosen.addr, tos: 0x28 }), chosen.mac, OUR_MAC);
      assert.deepEqual(Buffer.from(out).toString('hex'), Buffer.from(expected).toString('hex'));
      assert.deepEqual(checksumProblems(out), []);
      assert.equal(gw.pinned(spec), chosen.id);
      assert.equal(gw.backendPackets(chosen.id), 1);
      assert.equal(gw.stat(STAT.newFlow), 1);
      assert.equal(gw.run(buildFrame({ ...spec, flags: { ack: true } })).retval, XDP_TX);
      assert.equal(gw.stat(STAT.newFlow), 1, 'the second packet of the flow hits the flow table');
      assert.equal(gw.backendPackets(chosen.id), 2);
    } finally {
      gw.close();
    }
  });

  test('IPv6 in IPv4, IPv4 in IPv6 and IPv6 in IPv6 carry the right outer header and flow label', (t) => {
    if (!requireKernel(t)) return;
    const gw = gateway();
    try {
      const cases: { spec: FrameSpec; gateways: Gateway[]; table: Uint32Array }[] = [
        { spec: { src: '2001:db8:1::5', dst: '2001:db8::20', proto: 'tcp', sport: 5555, dport: 443, tos: 0xb8, dstMac: OUR_MAC }, gateways: GATEWAYS, table: gwTable },
        { spec: { src: '10.9.9.9', dst: '203.0.113.66', proto: 'tcp', sport: 6666, dport: 80, tos: 0x10, dstMac: OUR_MAC }, gateways: [GATEWAY6], table: buildMaglevTable([GATEWAY6], RING) },
        { spec: { src: '2001:db8:1::6', dst: '2001:db8::66', proto: 'tcp', sport: 7777, dport: 443, dstMac: OUR_MAC }, gateways: [GATEWAY6], table: buildMaglevTable([GATEWAY6], RING) },
      ];
      for (const { spec, gateways, table } of cases) {
        const hash = flowHash(flowKey(spec));
        const chosen = gateways.find((g) => g.id === table[hash % RING])!;
        const { retval, out } = gw.run(buildFrame(spec));
        assert.equal(retval, XDP_TX, spec.dst);
        const v6 = familyOf(chosen.addr) === AF_INET6;
        const outer = { src: v6 ? ENCAP_SRC6 : ENCAP_SRC4, dst: chosen.addr, tos: spec.tos ?? 0, ...(v6 ? { flowLabel: hash & 0xfffff } : {}) };
        const expected = frameOf(encapsulate(buildPacket(spec), outer), chosen.mac, OUR_MAC);
        assert.equal(Buffer.from(out).toString('hex'), Buffer.from(expected).toString('hex'), `${spec.src} → ${chosen.addr}`);
        assert.deepEqual(checksumProblems(out), []);
      }
    } finally {
      gw.close();
    }
  });

  test('a UDP VIP for every port, traffic that is not for a VIP, and fragments', (t) => {
    if (!requireKernel(t)) return;
    const gw = gateway();
    try {
      const udp: FrameSpec = { src: '10.3.3.3', dst: '203.0.113.20', proto: 'udp', sport: 5353, dport: 9999, dstMac: OUR_MAC, payload: Buffer.from('dns?') };
      const udpRun = gw.run(buildFrame(udp));
      assert.equal(udpRun.retval, XDP_TX);
      assert.deepEqual(checksumProblems(udpRun.out), []);
      assert.equal(parseFrame(udpRun.out).l4?.dport, 9999);
      for (const other of [
        { ...udp, dst: '203.0.113.21' },
        { ...udp, proto: 'tcp', dport: 81 } as FrameSpec,
        { ...udp, dst: '2001:db8::20', src: '2001:db8::1', proto: 'tcp', dport: 80 } as FrameSpec,
      ]) {
        const frame = buildFrame(other);
        const r = gw.run(frame);
        assert.equal(r.retval, XDP_PASS, `${other.proto} ${other.dst}:${other.dport}`);
        assert.deepEqual(r.out, frame, 'passed untouched');
      }
      assert.equal(gw.run(buildFrame({ ...udp, moreFragments: true })).retval, XDP_PASS);
      assert.equal(gw.stat(STAT.fragment), 1);
      assert.equal(gw.run(buildFrame({ ...udp, dport: 80 }).subarray(0, 14 + 20 + 2)).retval, XDP_PASS, 'a truncated UDP header');
    } finally {
      gw.close();
    }
  });

  test('the gateway chosen for each of 2000 flows is the one the TypeScript table names', (t) => {
    if (!requireKernel(t)) return;
    const gw = gateway();
    try {
      const perGateway = new Map<number, number>();
      for (const spec of flows(2000, '203.0.113.20', 80)) {
        const id = gw.gatewayOf(spec, GATEWAYS);
        assert.equal(id, gwTable[flowHash(flowKey(spec)) % RING], `${spec.src}:${spec.sport}`);
        perGateway.set(id, (perGateway.get(id) ?? 0) + 1);
      }
      for (const g of GATEWAYS) assert.equal(gw.backendPackets(g.id), perGateway.get(g.id) ?? 0, `counter of gateway ${g.id}`);
      assert.equal(gw.stat(STAT.newFlow), 2000);
    } finally {
      gw.close();
    }
  });

  test(`removing a gateway moves only its flows (pinned flows stay; unpinned: ≤ ${MAX_DISRUPTION_PERCENT}% of the others move)`, (t) => {
    if (!requireKernel(t)) return;
    const gw = gateway();
    try {
      const specs = flows(3000, '203.0.113.20', 80, 7);
      const before = specs.map((s) => gw.gatewayOf(s, GATEWAYS));
      const removed = GATEWAYS[1]!;
      const remaining = GATEWAYS.filter((g) => g !== removed);
      const newTable = buildMaglevTable(remaining, RING);
      gw.setRing(1, newTable);
      gw.addVip('203.0.113.20', 80, 'tcp', 1);
      gw.setBackend(removed, false);

      const pinnedAfter = specs.map((s) => gw.gatewayOf(s, GATEWAYS));
      specs.forEach((s, i) => {
        if (before[i] === removed.id) assert.equal(pinnedAfter[i], newTable[flowHash(flowKey(s)) % RING], 'a flow of the removed gateway goes where the new table says');
        else assert.equal(pinnedAfter[i], before[i], 'an established flow keeps its gateway');
      });
      assert.equal(gw.stat(STAT.repinned), before.filter((id) => id === removed.id).length);

      gw.clearFlows();
      const fresh = specs.map((s) => gw.gatewayOf(s, GATEWAYS));
      let others = 0;
      let moved = 0;
      specs.forEach((s, i) => {
        assert.notEqual(fresh[i], removed.id);
        assert.equal(fresh[i], newTable[flowHash(flowKey(s)) % RING]);
        if (before[i] === removed.id) return;
        others += 1;
        if (fresh[i] !== before[i]) moved += 1;
      });
      const percent = (100 * moved) / others;
      t.diagnostic(`unpinned flows of the other gateways that moved: ${moved}/${others} (${percent.toFixed(2)}%)`);
      assert.ok(percent <= MAX_DISRUPTION_PERCENT, `${percent}% moved`);
    } finally {
      gw.close();
    }
  });

  test('a removed VIP: its established flows go to the stack and leave the flow table', (t) => {
    if (!requireKernel(t)) return;
    const gw = gateway();
    try {
      const spec: FrameSpec = { src: '10.5.5.5', dst: '203.0.113.20', proto: 'tcp', sport: 2222, dport: 80, dstMac: OUR_MAC };
      assert.equal(gw.run(buildFrame(spec)).retval, XDP_TX);
      assert.notEqual(gw.pinned(spec), undefined);
      gw.removeVip('203.0.113.20', 80, 'tcp');
      const udp: FrameSpec = { ...spec, proto: 'udp', dport: 53 };
      assert.equal(gw.run(buildFrame(udp)).retval, XDP_TX, 'the every-port UDP VIP of the address stays');
      const frame = buildFrame(spec);
      const r = gw.run(frame);
      assert.equal(r.retval, XDP_PASS);
      assert.deepEqual(r.out, frame);
      assert.equal(gw.pinned(spec), undefined);
    } finally {
      gw.close();
    }
  });

  test('no gateway up drops and counts; a packet beyond the MTU once encapsulated is dropped', (t) => {
    if (!requireKernel(t)) return;
    const gw = gateway(1500);
    try {
      const spec: FrameSpec = { src: '10.4.4.4', dst: '203.0.113.66', proto: 'tcp', sport: 1234, dport: 80, dstMac: OUR_MAC };
      const big = { ...spec, payload: new Uint8Array(1500 - 40) };
      assert.equal(gw.run(buildFrame({ ...big, payload: new Uint8Array(1500 - 40 - 40) })).retval, XDP_TX, 'fits with a 40-byte IPv6 header');
      assert.equal(gw.run(buildFrame(big)).retval, XDP_DROP);
      assert.equal(gw.stat(STAT.tooBig), 1);
      gw.setBackend(GATEWAY6, false);
      assert.equal(gw.run(buildFrame(spec)).retval, XDP_DROP);
      assert.equal(gw.stat(STAT.noBackend), 1);
    } finally {
      gw.close();
    }
  });
});
