import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, test, type TestContext } from 'node:test';
import { formatValue, mapDelete, mapDump, mapKeys, mapLookupPerCpu, mapUpdate, RingBufferReader, type LoadedObject } from '@ebpf-studio/libbpf-ts';
import { assertShares, createNetns, kernelAvailable, requireKernel, type TestNetns } from '@ebpf-studio/test-support';
import { ALL_UP, compilePolicy, countsFromDump, encodeStatsKey, LB_MAPS, parsePolicy, planApply, serviceStatus, setHealth, type HealthState, type Policy } from '../src/policy';
import { attachedProgramIds, attachTemplate, firstJsonLine, fixture, type AttachedTemplate } from './template-socket-harness';

/**
 * clusterset-socket-lb with real sockets: backends are TCP/UDP servers on 127.0.0.1 (and ::1 inside a
 * test namespace), clients are node processes inside the test cgroup, the VIPs are in 127.100.0.0/16
 * (and fd00:eb5::/64 inside the namespace, which has no route). Every policy change goes through
 * parsePolicy → compilePolicy → planApply → map writes, as `ebpf-studio apply` does, on the same attached
 * programs.
 */

const NAME = 'clusterset-socket-lb';
const BACKENDS = fixture(NAME, 'backends.js');
const CLIENT = fixture(NAME, 'client.js');
const VIP = '127.100.0.20:8080';
const UDP_VIP = '127.100.0.53:5353';

type Ports = Record<string, { tcp: number; udp: number }>;
interface ClientResult {
  names: Record<string, number>;
  errors: Record<string, number>;
  peers: string[];
}

function startBackends(host: string, names: string[], netns?: TestNetns): { child: ChildProcess; ports: Promise<Ports> } {
  const child = netns ? netns.spawn('node', [BACKENDS, host, ...names]) : spawn('node', [BACKENDS, host, ...names]);
  return { child, ports: firstJsonLine<Ports>(child) };
}

describe('clusterset-socket-lb: real sockets in a test cgroup', () => {
  let lb: AttachedTemplate | undefined;
  let backends: ChildProcess | undefined;
  let ports: Ports = {};
  let health: HealthState = ALL_UP;
  let programIds: number[] = [];

  before(async () => {
    if (!kernelAvailable()) return;
    lb = attachTemplate(NAME);
    programIds = attachedProgramIds(lb.cgroup.path);
    const started = startBackends('127.0.0.1', ['east-a', 'east-b', 'west-a', 'gateway']);
    backends = started.child;
    ports = await started.ports;
  });
  after(() => {
    backends?.kill();
    lb?.close();
  });

  const obj = (): LoadedObject => lb!.object;

  /** A policy file for the backends above; `services` is the YAML list under `services:`. */
  function policyFor(services: string): Policy {
    return parsePolicy(
      [
        'version: 1',
        'localCluster: east',
        'clusters:',
        '  east: { id: 1, nodes: [] }',
        '  west: { id: 2, nodes: [] }',
        `  north: { id: 3, gateway: 127.0.0.1:${ports['gateway']!.tcp}, nodes: [] }`,
        'services:',
        services,
      ].join('\n'),
      'ebpf-studio.yaml',
    );
  }

  function endpoints(kind: 'tcp' | 'udp'): string {
    const p = (n: string): string => `127.0.0.1:${ports[n]![kind]}`;
    return `{ east: [${p('east-a')}, ${p('east-b')}], west: [${p('west-a')}] }`;
  }

  /** Writes the compiled policy into the running maps, as `ebpf-studio apply` does; returns how many writes. */
  function apply(policy: Policy): number {
    const compiled = compilePolicy(policy, health);
    const current = new Map([LB_MAPS.services, LB_MAPS.backends].map((m) => [m, mapKeys(obj().map(m).fd, { limit: 100_000 }).keys] as const));
    const ops = planApply(compiled, current);
    for (const op of ops) {
      const fd = obj().map(op.map).fd;
      if (op.op === 'update') mapUpdate(fd, op.key, op.value);
      else mapDelete(fd, op.key);
    }
    return ops.length;
  }

  function runClient(mode: string, vip: string, count: number, netns?: TestNetns): Promise<ClientResult> {
    const at = vip.lastIndexOf(':');
    const args = [CLIENT, mode, vip.slice(0, at).replace(/^\[|\]$/g, ''), vip.slice(at + 1), String(count)];
    const child = netns ? lb!.cgroup.spawn('nsenter', [`--net=${netns.path}`, 'node', ...args]) : lb!.cgroup.spawn('node', args);
    return firstJsonLine<ClientResult>(child, 60_000);
  }

  /** What `ebpf-studio status` shows: lb_stats dumped and decoded by BTF (as the session's maps.dump does). */
  function statsOf(policy: Policy): ReturnType<typeof serviceStatus> {
    const spec = lb!.spec.maps.find((m) => m.name === LB_MAPS.stats)!;
    const decode = { btf: lb!.spec.btf!, keyTypeId: spec.keyTypeId!, valueTypeId: spec.valueTypeId! };
    const page = mapDump(obj().map(LB_MAPS.stats).fd, { decode, pageSize: 10_000 });
    return serviceStatus(policy, health, countsFromDump(page.entries.map((e) => ({ key: e.keyDecoded, value: e.valueDecoded }))));
  }

  function resetStats(): void {
    const fd = obj().map(LB_MAPS.stats).fd;
    for (const key of mapKeys(fd, { limit: 100_000 }).keys) mapDelete(fd, key);
  }

  function assertSameProgramsAttached(): void {
    assert.deepEqual(attachedProgramIds(lb!.cgroup.path), programIds, 'the same programs stay attached: nothing was reloaded');
  }

  test('ActiveActive 80/20: 10,000 connects split within a chi-square bound; counters agree; getpeername says the VIP', async (t: TestContext) => {
    if (!requireKernel(t)) return;
    health = ALL_UP;
    resetStats();
    const policy = policyFor(`  - { name: orders, vip: ${VIP}, policy: { type: ActiveActive, weights: { east: 80, west: 20 } }, endpoints: ${endpoints('tcp')} }`);
    apply(policy);
    const started = Date.now();
    const result = await runClient('tcp', VIP, 10_000);
    const ms = Date.now() - started;
    assert.deepEqual(result.errors, {});
    const observed = ['east-a', 'east-b', 'west-a'].map((n) => result.names[n] ?? 0);
    assert.equal(observed.reduce((a, b) => a + b, 0), 10_000);
    // Three cells: the two east endpoints share east's 80%.
    const fit = assertShares('80/20 over east-a, east-b, west-a', observed, [0.4, 0.4, 0.2]);
    t.diagnostic(`10,000 connects in ${ms} ms: east-a ${observed[0]}, east-b ${observed[1]}, west-a ${observed[2]}; ${fit}`);
    assert.deepEqual(result.peers, [`127.100.0.20|8080`], 'getpeername() returns the VIP, not the backend');
    const [status] = statsOf(policy);
    const byCluster = Object.fromEntries(status!.clusters.map((c) => [c.cluster, c.connects]));
    assert.equal(byCluster['east'], observed[0]! + observed[1]!);
    assert.equal(byCluster['west'], observed[2]);
    assert.equal(status!.clusters.find((c) => c.cluster === 'east')!.expectedShare, 0.8);
  });

  test('apply: new weights change the split without a reload (same program ids)', async (t: TestContext) => {
    if (!requireKernel(t)) return;
    health = ALL_UP;
    apply(policyFor(`  - { name: orders, vip: ${VIP}, policy: { type: ActiveActive, weights: { east: 1, west: 1 } }, endpoints: ${endpoints('tcp')} }`));
    const result = await runClient('tcp', VIP, 2_000);
    const east = (result.names['east-a'] ?? 0) + (result.names['east-b'] ?? 0);
    const west = result.names['west-a'] ?? 0;
    assert.equal(east + west, 2_000);
    t.diagnostic(`50/50 after apply: east ${east}, west ${west}; ${assertShares('50/50 after apply', [east, west], [0.5, 0.5])}`);
    assertSameProgramsAttached();
  });

  test('Locality sends nothing to the remote cluster', async (t: TestContext) => {
    if (!requireKernel(t)) return;
    health = ALL_UP;
    apply(policyFor(`  - { name: orders, vip: ${VIP}, policy: { type: Locality }, endpoints: ${endpoints('tcp')} }`));
    const result = await runClient('tcp', VIP, 2_000);
    assert.equal(result.names['west-a'], undefined);
    assert.equal((result.names['east-a'] ?? 0) + (result.names['east-b'] ?? 0), 2_000);
    assert.ok((result.names['east-a'] ?? 0) > 0 && (result.names['east-b'] ?? 0) > 0, 'both local endpoints serve');
  });

  test('FailOver: the local endpoints go down → everything to west; they recover → back to east', async (t: TestContext) => {
    if (!requireKernel(t)) return;
    health = ALL_UP;
    const policy = policyFor(`  - { name: orders, vip: ${VIP}, policy: { type: FailOver, order: [east, west] }, endpoints: ${endpoints('tcp')} }`);
    apply(policy);
    const before = await runClient('tcp', VIP, 500);
    assert.equal(before.names['west-a'], undefined, 'east first while healthy');

    health = setHealth(policy, health, 'orders', `127.0.0.1:${ports['east-a']!.tcp}`, 'down');
    apply(policy);
    const oneDown = await runClient('tcp', VIP, 500);
    assert.deepEqual(oneDown.names, { 'east-b': 500 }, 'one endpoint down: its sibling takes over, still in east');

    health = setHealth(policy, health, 'orders', `127.0.0.1:${ports['east-b']!.tcp}`, 'down');
    apply(policy);
    const failedOver = await runClient('tcp', VIP, 500);
    assert.deepEqual(failedOver.names, { 'west-a': 500 }, 'no healthy endpoint in east: all to west');

    health = ALL_UP;
    apply(policy);
    const back = await runClient('tcp', VIP, 500);
    assert.equal(back.names['west-a'], undefined, 'east recovered: traffic is back');
    assert.equal((back.names['east-a'] ?? 0) + (back.names['east-b'] ?? 0), 500);

    health = setHealth(policy, ALL_UP, 'orders', 'east', 'down');
    apply(policy);
    const clusterDown = await runClient('tcp', VIP, 200);
    assert.deepEqual(clusterDown.names, { 'west-a': 200 }, 'a whole cluster marked down fails over too');
    assertSameProgramsAttached();
  });

  test('a cluster with a gateway is reached through the gateway', async (t: TestContext) => {
    if (!requireKernel(t)) return;
    health = ALL_UP;
    const policy = policyFor(`  - { name: orders, vip: ${VIP}, policy: { type: FailOver, order: [east, north] }, endpoints: { east: [127.0.0.1:${ports['east-a']!.tcp}], north: [10.9.0.1:80] } }`);
    health = setHealth(policy, ALL_UP, 'orders', 'east', 'down');
    apply(policy);
    const result = await runClient('tcp', VIP, 200);
    assert.deepEqual(result.names, { gateway: 200 });
  });

  test('no healthy backend: connect() fails with EPERM and the miss is counted under cluster 0', async (t: TestContext) => {
    if (!requireKernel(t)) return;
    resetStats();
    const policy = policyFor(`  - { name: orders, vip: ${VIP}, policy: { type: Locality }, endpoints: ${endpoints('tcp')} }`);
    health = setHealth(policy, ALL_UP, 'orders', 'east', 'down');
    apply(policy);
    const result = await runClient('tcp', VIP, 20);
    assert.deepEqual(result.errors, { EPERM: 20 });
    assert.deepEqual(statsOf(policy)[0]!.noBackend, { connects: 20, datagrams: 0 });
    const none = mapLookupPerCpu(obj().map(LB_MAPS.stats).fd, encodeStatsKey(policy.services[0]!.id, 0));
    assert.ok(none, 'lb_stats has the cluster-0 entry');
  });

  test('UDP: sendmsg steers each datagram, recvmsg shows the VIP as the reply source; connected UDP too', async (t: TestContext) => {
    if (!requireKernel(t)) return;
    health = ALL_UP;
    resetStats();
    const policy = policyFor(`  - { name: resolver, vip: ${UDP_VIP}, protocol: udp, policy: { type: ActiveActive, weights: { east: 50, west: 50 } }, endpoints: ${endpoints('udp')} }`);
    apply(policy);
    const unconnected = await runClient('udp', UDP_VIP, 400);
    assert.deepEqual(unconnected.errors, {});
    assert.deepEqual(unconnected.peers, ['127.100.0.53|5353'], 'every reply reads as coming from the VIP');
    assert.ok((unconnected.names['west-a'] ?? 0) > 0 && (unconnected.names['east-a'] ?? 0) + (unconnected.names['east-b'] ?? 0) > 0, 'datagrams reach both clusters');
    const status = statsOf(policy)[0]!;
    assert.equal(status.clusters.reduce((s, c) => s + c.datagrams, 0), 400, 'lb_stats counts the datagrams');

    const connected = await runClient('udp-connected', UDP_VIP, 20);
    assert.deepEqual(connected.errors, {});
    assert.deepEqual(connected.peers, ['127.100.0.53|5353'], 'remoteAddress() (getpeername) and reply sources are the VIP');
    assert.equal(Object.keys(connected.names).length, 1, 'a connected socket keeps its backend');
  });
});

describe('clusterset-socket-lb: IPv6 inside a test namespace', () => {
  test('connect6 splits across ::1 backends and getpeername6 returns the IPv6 VIP; UDP over sendmsg6/recvmsg6', async (t: TestContext) => {
    if (!requireKernel(t)) return;
    const netns = createNetns('lb6');
    let lb: AttachedTemplate | undefined;
    let backends: ChildProcess | undefined;
    try {
      lb = attachTemplate(NAME);
      const started = startBackends('::1', ['east-a', 'west-a'], netns);
      backends = started.child;
      const ports = await started.ports;
      const vip = '[fd00:eb5::20]:8080';
      const udpVip = '[fd00:eb5::53]:5353';
      const policy = parsePolicy(
        [
          'version: 1',
          'clusters: { east: { id: 1, nodes: [] }, west: { id: 2, nodes: [] } }',
          'services:',
          `  - { name: web, vip: "${vip}", policy: { type: ActiveActive, weights: { east: 3, west: 1 } }, endpoints: { east: ["[::1]:${ports['east-a']!.tcp}"], west: ["[::1]:${ports['west-a']!.tcp}"] } }`,
          `  - { name: dns, vip: "${udpVip}", protocol: udp, policy: { type: FailOver, order: [west, east] }, endpoints: { east: ["[::1]:${ports['east-a']!.udp}"], west: ["[::1]:${ports['west-a']!.udp}"] } }`,
        ].join('\n'),
      );
      for (const m of compilePolicy(policy).maps) for (const e of m.entries) mapUpdate(lb.object.map(m.map).fd, e.key, e.value);
      const spawnClient = (mode: string, address: string, count: number): Promise<ClientResult> => {
        const at = address.lastIndexOf(':');
        const child = lb!.cgroup.spawn('nsenter', [`--net=${netns.path}`, 'node', CLIENT, mode, address.slice(1, at - 1), address.slice(at + 1), String(count)]);
        return firstJsonLine<ClientResult>(child, 60_000);
      };
      const tcp = await spawnClient('tcp', vip, 2_000);
      assert.deepEqual(tcp.errors, {});
      const observed = [tcp.names['east-a'] ?? 0, tcp.names['west-a'] ?? 0];
      t.diagnostic(`IPv6 75/25: east ${observed[0]}, west ${observed[1]}; ${assertShares('IPv6 75/25', observed, [0.75, 0.25])}`);
      assert.deepEqual(tcp.peers, ['fd00:eb5::20|8080']);
      const udp = await spawnClient('udp', udpVip, 50);
      assert.deepEqual(udp.errors, {});
      assert.deepEqual(udp.names, { 'west-a': 50 }, 'FailOver picks west first');
      assert.deepEqual(udp.peers, ['fd00:eb5::53|5353']);
    } finally {
      backends?.kill();
      lb?.close();
      netns.remove();
    }
  });
});

describe('clusterset-socket-lb: events', () => {
  test('with emit_events set, every steered connect is an lb_event in studio_events, and none is lost', async (t: TestContext) => {
    if (!requireKernel(t)) return;
    let lb: AttachedTemplate | undefined;
    let backends: ChildProcess | undefined;
    let reader: RingBufferReader | undefined;
    try {
      lb = attachTemplate(NAME, { settings: () => ({ emit_events: true }) });
      const started = startBackends('127.0.0.1', ['east-a']);
      backends = started.child;
      const ports = await started.ports;
      const policy = parsePolicy(`version: 1
localCluster: east
clusters: { east: { id: 1, nodes: [] } }
services:
  - { name: orders, vip: ${VIP}, policy: { type: Locality }, endpoints: { east: [127.0.0.1:${ports['east-a']!.tcp}] } }
`);
      for (const m of compilePolicy(policy).maps) for (const e of m.entries) mapUpdate(lb.object.map(m.map).fd, e.key, e.value);
      const btf = lb.spec.btf!;
      const eventType = btf.findByName('lb_event', 'STRUCT')!.id;
      const events: { hdr: { type: number; size: number }; service_id: number; cluster_id: number; hook: number; backend: { port: number } }[] = [];
      reader = new RingBufferReader(lb.object.map('studio_events').fd, (bytes) => events.push(formatValue(btf, eventType, bytes) as (typeof events)[number]));
      const client = lb.cgroup.spawn('node', [CLIENT, 'tcp', '127.100.0.20', '8080', '50']);
      assert.deepEqual((await firstJsonLine<ClientResult>(client)).names, { 'east-a': 50 });
      reader.consume();
      assert.equal(events.length, 50);
      const port = ports['east-a']!.tcp;
      assert.equal(events[0]!.hdr.type, 1, 'LB_EVENT_STEER');
      assert.equal(events[0]!.hdr.size, 80, 'sizeof(struct lb_event)');
      assert.ok(events.every((e) => e.service_id === policy.services[0]!.id && e.cluster_id === 1 && e.hook === 1 && e.backend.port === (((port & 0xff) << 8) | (port >> 8))));
      const lost = mapLookupPerCpu(lb.object.map('studio_ev_lost').fd, new Uint8Array(4))!.reduce((sum, v) => sum + Buffer.from(v).readBigUInt64LE(0), 0n);
      assert.equal(lost, 0n, 'no reserve failed');
    } finally {
      reader?.close();
      backends?.kill();
      lb?.close();
    }
  });
});
