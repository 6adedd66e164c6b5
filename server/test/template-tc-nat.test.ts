import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { attachTcx, LoadedObject, mapDump, mapLookupPerCpu, mapUpdate, type Attachment } from '@ebpf-studio/libbpf-ts';
import { createNetnsPair, requireKernel } from '@ebpf-studio/test-support';
import { buildFrame, checksumProblems, internetChecksum, parseFrame, type FrameSpec } from '@ebpf-studio/test-support';
import { buildMaglevTable, flowHash } from '../src/policy/maglev';
import { CT_DIR, encodeCtKey, encodeNatBackend, encodeNatService, encodeNatServiceKey, NAT_STAT } from '../src/policy/nat-layout';
import { checkManifest, fillRing, perCpuSum, runFrame, templateSuite, u32, verifyTemplate } from './template-packet-harness';
import { settingsPatches } from './template-socket-harness';

const NAME = 'tc-cluster-nat';
const TC_ACT_OK = 0;
const TC_ACT_SHOT = 2;
const RING = 251;
const STAT = NAT_STAT;
const CT_FORWARD = 'forward';
const CT_REPLY = 'reply';
const VIP = '203.0.113.30';
const CLIENT = '10.1.1.1';
const SNAT = '192.0.2.50';
const PORT_MIN = 40000;
const PORT_MAX = 40999;

interface Backend { id: number; addr: string; port: number; weight: number }
const WEB: Backend[] = [
  { id: 0, addr: '10.20.0.10', port: 8080, weight: 2 },
  { id: 1, addr: '10.20.0.11', port: 8080, weight: 1 },
  { id: 2, addr: '10.30.0.12', port: 9090, weight: 1 },
];
const DNS: Backend = { id: 5, addr: '10.20.0.53', port: 5353, weight: 1 };
const webTable = buildMaglevTable(WEB, RING);

/** struct ct_key of a packet as a program sees it (server/src/policy/nat-layout.ts). */
function ctKey(spec: FrameSpec, dir: keyof typeof CT_DIR): Uint8Array {
  return encodeCtKey(spec.src, spec.dst, spec.sport, spec.dport, spec.proto, dir);
}

function backendOf(spec: FrameSpec, table: Uint32Array, backends: readonly Backend[]): Backend {
  return backends.find((b) => b.id === table[flowHash(ctKey(spec, CT_FORWARD)) % RING])!;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

class NatUnderTest {
  readonly object: LoadedObject;

  constructor(bytes: Uint8Array, settings: Record<string, number | string>) {
    this.object = LoadedObject.load(bytes, { patches: settingsPatches(bytes, NAME, settings) });
    this.service(VIP, 80, 'tcp', 0, WEB, webTable);
    this.service(VIP, 53, 'udp', 1, [DNS], buildMaglevTable([DNS], RING));
  }

  private fd(map: string): number {
    return this.object.map(map).fd;
  }

  service(vip: string, port: number, p: 'tcp' | 'udp', ring: number, backends: readonly Backend[], table: Uint32Array): void {
    mapUpdate(this.fd('services'), encodeNatServiceKey(vip, port, p), encodeNatService(ring));
    for (const b of backends) this.backend(b, true);
    fillRing(this.fd('nat_rings'), ring, table);
  }

  backend(b: Backend, up: boolean): void {
    mapUpdate(this.fd('nat_backends'), u32(b.id), encodeNatBackend(b.addr, b.port, up));
  }

  /** Occupies a reply tuple in the conntrack map, as another connection would. */
  occupy(reply: FrameSpec): void {
    mapUpdate(this.fd('conntrack'), ctKey(reply, CT_REPLY), new Uint8Array(12));
  }

  forward(frame: Uint8Array): { retval: number; out: Uint8Array } {
    return runFrame(this.object.program('nat_forward').fd, frame);
  }

  reply(frame: Uint8Array): { retval: number; out: Uint8Array } {
    return runFrame(this.object.program('nat_reply').fd, frame);
  }

  connections(): number {
    return mapDump(this.fd('conntrack'), { pageSize: 10_000 }).entries.length;
  }

  stat(index: number): number {
    return perCpuSum(mapLookupPerCpu(this.fd('nat_stats'), u32(index)));
  }

  close(): void {
    this.object.close();
  }
}

describe('tc-cluster-nat template (BPF_PROG_TEST_RUN)', () => {
  const suite = templateSuite(NAME);
  const nat = (settings: Record<string, number | string> = {}): NatUnderTest => new NatUnderTest(suite.bytes, { ring_size: RING, ...settings });

  test('template.json describes the object: programs, maps, parameters, files', () => {
    checkManifest(NAME, suite.bytes);
  });

  test('the checksum verifier: RFC 1071\'s example, and a flipped bit is caught in each layer', () => {
    assert.equal(internetChecksum(Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7)), 0x220d);
    for (const spec of [{ proto: 'tcp', src: CLIENT, dst: VIP }, { proto: 'udp', src: CLIENT, dst: VIP }, { proto: 'tcp', src: 'fd00::1', dst: 'fd00::2' }] as const) {
      const frame = buildFrame({ ...spec, sport: 1, dport: 2, payload: Buffer.from('data') });
      assert.deepEqual(checksumProblems(frame), []);
      const l3 = 14;
      const l4 = l3 + parseFrame(frame).ip[0]!.headerLength;
      for (const [offset, layer] of [...(spec.src === CLIENT ? [[l3 + 8, /IPv4 header checksum/] as const] : []), [l4 + 1, /(TCP|UDP) checksum/] as const, [frame.length - 1, /(TCP|UDP) checksum/] as const]) {
        const bad = Uint8Array.from(frame);
        bad[offset]! ^= 0x10;
        assert.match(checksumProblems(bad).join('; '), layer, `${spec.proto} ${spec.src}: byte ${offset}`);
      }
    }
  });

  test('compiles and passes the verifier', async (t) => {
    if (!requireKernel(t)) return;
    const report = await verifyTemplate(NAME, suite, { snat_addr: '0x320200c0' });
    assert.deepEqual(report.diagnostics.filter((d) => d.severity === 'error'), []);
    assert.deepEqual(report.programs.map((p) => [p.name, p.verdict]), [['nat_forward', 'accepted'], ['nat_reply', 'accepted']]);
  });

  test('a SYN to the VIP leaves for the backend and the SYN-ACK comes back from the VIP, checksums valid', (t) => {
    if (!requireKernel(t)) return;
    const n = nat();
    try {
      const syn: FrameSpec = { src: CLIENT, dst: VIP, proto: 'tcp', sport: 40001, dport: 80, seq: 7777, payload: Buffer.from('hi') };
      const backend = backendOf(syn, webTable, WEB);
      const out = n.forward(buildFrame(syn));
      assert.equal(out.retval, TC_ACT_OK);
      assert.equal(hex(out.out), hex(buildFrame({ ...syn, dst: backend.addr, dport: backend.port })));
      assert.deepEqual(checksumProblems(out.out), []);
      assert.equal(n.connections(), 2, 'both directions are tracked');

      const synAck: FrameSpec = { src: backend.addr, dst: CLIENT, proto: 'tcp', sport: backend.port, dport: 40001, seq: 1, ack: 7778, flags: { syn: true, ack: true }, srcMac: '02:00:00:00:00:02', dstMac: '02:00:00:00:00:01' };
      const back = n.reply(buildFrame(synAck));
      assert.equal(back.retval, TC_ACT_OK);
      assert.equal(hex(back.out), hex(buildFrame({ ...synAck, src: VIP, sport: 80 })));
      assert.deepEqual(checksumProblems(back.out), []);

      const ack = n.forward(buildFrame({ ...syn, flags: { ack: true }, seq: 7778, ack: 2 }));
      assert.deepEqual(parseFrame(ack.out).ip[0]!.dst, backend.addr);
      assert.deepEqual(checksumProblems(ack.out), []);
      assert.equal(n.stat(STAT.newConnection), 1, 'the ACK found the connection');
    } finally {
      n.close();
    }
  });

  test('SNAT: the source becomes the node address and a free port of the range; the reply finds its way back', (t) => {
    if (!requireKernel(t)) return;
    const n = nat({ snat_addr: SNAT, snat_port_min: PORT_MIN, snat_port_max: PORT_MAX });
    try {
      const syn: FrameSpec = { src: CLIENT, dst: VIP, proto: 'tcp', sport: 50000, dport: 80 };
      const backend = backendOf(syn, webTable, WEB);
      const hash = flowHash(ctKey(syn, CT_FORWARD));
      const range = PORT_MAX - PORT_MIN + 1;
      const first = PORT_MIN + (hash % range);
      const second = PORT_MIN + ((hash + 1) % range);
      n.occupy({ src: backend.addr, dst: SNAT, proto: 'tcp', sport: backend.port, dport: first });
      const out = n.forward(buildFrame(syn));
      assert.equal(hex(out.out), hex(buildFrame({ ...syn, src: SNAT, sport: second, dst: backend.addr, dport: backend.port })), 'the first candidate port is taken: the second is used');
      assert.deepEqual(checksumProblems(out.out), []);
      const back = n.reply(buildFrame({ src: backend.addr, dst: SNAT, proto: 'tcp', sport: backend.port, dport: second, flags: { syn: true, ack: true } }));
      assert.equal(hex(back.out), hex(buildFrame({ src: VIP, dst: CLIENT, proto: 'tcp', sport: 80, dport: 50000, flags: { syn: true, ack: true } })));
      assert.deepEqual(checksumProblems(back.out), []);
    } finally {
      n.close();
    }
  });

  test('SNAT with every candidate port taken drops and counts', (t) => {
    if (!requireKernel(t)) return;
    const n = nat({ snat_addr: SNAT, snat_port_min: PORT_MIN, snat_port_max: PORT_MIN + 7 });
    try {
      const syn: FrameSpec = { src: CLIENT, dst: VIP, proto: 'tcp', sport: 50001, dport: 80 };
      const backend = backendOf(syn, webTable, WEB);
      for (let port = PORT_MIN; port <= PORT_MIN + 7; port++) n.occupy({ src: backend.addr, dst: SNAT, proto: 'tcp', sport: backend.port, dport: port });
      assert.equal(n.forward(buildFrame(syn)).retval, TC_ACT_SHOT);
      assert.equal(n.stat(STAT.noPort), 1);
    } finally {
      n.close();
    }
  });

  test('UDP with a checksum, UDP without one (stays zero), TCP with IP options', (t) => {
    if (!requireKernel(t)) return;
    const n = nat();
    try {
      const query: FrameSpec = { src: CLIENT, dst: VIP, proto: 'udp', sport: 33333, dport: 53, payload: Buffer.from('query') };
      for (const spec of [query, { ...query, sport: 33334, udpChecksumZero: true }]) {
        const out = n.forward(buildFrame(spec));
        assert.equal(hex(out.out), hex(buildFrame({ ...spec, dst: DNS.addr, dport: DNS.port })));
        assert.deepEqual(checksumProblems(out.out), []);
        const answer: FrameSpec = { ...spec, src: DNS.addr, sport: DNS.port, dst: CLIENT, dport: spec.sport, payload: Buffer.from('answer') };
        const back = n.reply(buildFrame(answer));
        assert.equal(hex(back.out), hex(buildFrame({ ...answer, src: VIP, sport: 53 })));
        assert.deepEqual(checksumProblems(back.out), []);
      }
      const withOptions: FrameSpec = { src: CLIENT, dst: VIP, proto: 'tcp', sport: 40100, dport: 80, ipOptions: Uint8Array.of(1, 1, 1, 0) };
      const backend = backendOf(withOptions, webTable, WEB);
      const out = n.forward(buildFrame(withOptions));
      assert.equal(hex(out.out), hex(buildFrame({ ...withOptions, dst: backend.addr, dport: backend.port })));
      assert.deepEqual(checksumProblems(out.out), []);
    } finally {
      n.close();
    }
  });

  test('other traffic passes untouched; a service without a backend up drops', (t) => {
    if (!requireKernel(t)) return;
    const n = nat();
    try {
      for (const spec of [
        { src: CLIENT, dst: '203.0.113.31', proto: 'tcp', sport: 1, dport: 80 },
        { src: CLIENT, dst: VIP, proto: 'tcp', sport: 1, dport: 81 },
        { src: CLIENT, dst: VIP, proto: 'udp', sport: 1, dport: 80 },
        { src: 'fd00::1', dst: 'fd00::2', proto: 'tcp', sport: 1, dport: 80 },
        { src: CLIENT, dst: VIP, proto: 'tcp', sport: 1, dport: 80, moreFragments: true },
      ] as FrameSpec[]) {
        const frame = buildFrame(spec);
        for (const run of [n.forward(frame), n.reply(frame)]) {
          assert.equal(run.retval, TC_ACT_OK);
          assert.equal(hex(run.out), hex(frame));
        }
      }
      assert.equal(n.connections(), 0);
      for (const b of WEB) n.backend(b, false);
      assert.equal(n.forward(buildFrame({ src: CLIENT, dst: VIP, proto: 'tcp', sport: 2, dport: 80 })).retval, TC_ACT_SHOT);
      assert.equal(n.stat(STAT.noBackend), 1);
    } finally {
      n.close();
    }
  });

  test('each of 500 connections goes to the backend the TypeScript Maglev table names', (t) => {
    if (!requireKernel(t)) return;
    const n = nat();
    try {
      const seen = new Map<string, number>();
      for (let i = 0; i < 500; i++) {
        const syn: FrameSpec = { src: `10.1.${i >> 8}.${(i & 255) || 1}`, dst: VIP, proto: 'tcp', sport: 20000 + i, dport: 80 };
        const { out } = n.forward(buildFrame(syn));
        const backend = backendOf(syn, webTable, WEB);
        assert.equal(parseFrame(out).ip[0]!.dst, backend.addr);
        assert.equal(parseFrame(out).l4!.dport, backend.port);
        seen.set(backend.addr, (seen.get(backend.addr) ?? 0) + 1);
      }
      assert.equal(seen.size, WEB.length, 'every backend got connections');
      assert.equal(n.stat(STAT.newConnection), 500);
    } finally {
      n.close();
    }
  });

  // veth offloads checksums (CHECKSUM_PARTIAL), so this shows the programs work in the real stack; the
  // checksums themselves are checked byte for byte by the test runs above.
  test('attached with tcx links inside test namespaces: a real TCP connection to the VIP reaches the backend and talks to the VIP', async (t) => {
    if (!requireKernel(t)) return;
    const n = nat();
    const pair = createNetnsPair({ tag: 'tcnat' });
    const links: Attachment[] = [];
    try {
      const vip = '203.0.113.40';
      const backend: Backend = { id: 9, addr: pair.b.address, port: 18080, weight: 1 };
      n.service(vip, 80, 'tcp', 2, [backend], buildMaglevTable([backend], RING));
      const client = pair.a.netns!;
      client.exec('ip', ['route', 'add', `${vip}/32`, 'via', pair.b.address]);
      const server = pair.b.netns!.spawn(process.execPath, ['-e', `
        require('net').createServer((c) => c.once('data', (d) => c.end('pong ' + d + ' from ' + c.remoteAddress)))
          .listen(${backend.port}, '${backend.addr}', () => console.log('listening'));`]);
      await new Promise<void>((resolve, reject) => {
        server.stdout!.once('data', () => resolve());
        server.once('exit', (code) => reject(new Error(`the backend exited (${code})`)));
      });
      links.push(attachTcx(n.object.program('nat_forward'), pair.a.ifindex, 'egress', { netns: client.path }));
      links.push(attachTcx(n.object.program('nat_reply'), pair.a.ifindex, 'ingress', { netns: client.path }));
      const answer = client.exec(process.execPath, ['-e', `
        const c = require('net').connect(80, '${vip}', () => c.write('ping'));
        let got = '';
        c.on('data', (d) => (got += d));
        c.on('end', () => console.log(got + ' | peer ' + c.remoteAddress + ':' + c.remotePort));
        c.on('error', (e) => console.log('error ' + e.code));`], { timeoutMs: 10_000 }).trim();
      assert.equal(answer, `pong ping from ${pair.a.address} | peer ${vip}:80`);
      assert.equal(n.stat(STAT.newConnection), 1);
    } finally {
      for (const l of links) l.detach();
      pair.remove();
      n.close();
    }
  });
});
