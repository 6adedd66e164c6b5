import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ALL_UP, compilePolicy, countsFromDump, decodeEndpoint, decodeService, expectedShares, findTemplate, HealthTargetError, LB_MAPS, listTemplates, parsePolicy,
  planApply, programSets, routeService, serviceStatus, setHealth, type HealthState, type Policy,
} from '../src/policy';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const POLICY = parsePolicy(`version: 1
localCluster: east
clusters:
  east: { id: 1, nodes: [] }
  west: { id: 2, nodes: [] }
  north: { id: 3, gateway: 127.0.0.1:18443, nodes: [] }
services:
  - name: orders
    id: 7
    vip: 127.100.0.20:80
    policy: { type: ActiveActive, weights: { east: 80, west: 20, north: 0 } }
    endpoints: { east: [127.0.0.1:18080, 127.0.0.1:18081], west: [127.0.0.1:18082] }
  - name: payments
    id: 8
    vip: 127.100.0.21:80
    policy: { type: FailOver, order: [east, north, west] }
    endpoints: { east: [127.0.0.1:18083], west: [127.0.0.1:18085], north: [10.3.0.7:8080] }
  - name: local
    id: 9
    vip: "[fd00::9]:53"
    protocol: udp
    policy: { type: Locality }
    endpoints: { east: ["[::1]:5353"], west: ["[::1]:5354"] }
`);

function shares(policy: Policy, health: HealthState, service: string): Record<string, number> {
  return Object.fromEntries(expectedShares(routeService(policy, policy.services.find((s) => s.name === service)!, health)));
}

describe('compilePolicy: the exact map entries', () => {
  test('orders (ActiveActive 80/20): lb_services and lb_backends bytes', () => {
    const compiled = compilePolicy(POLICY, ALL_UP);
    assert.deepEqual(compiled.maps.map((m) => m.map), [LB_MAPS.backends, LB_MAPS.services]);
    const services = compiled.maps.find((m) => m.map === LB_MAPS.services)!.entries;
    const backends = compiled.maps.find((m) => m.map === LB_MAPS.backends)!.entries;
    // key: 127.100.0.20, 12 zero bytes, port 80 big-endian, AF_INET, IPPROTO_TCP (ports: 18080 = 0x46a0)
    assert.equal(hex(services[0]!.key), '7f640014' + '00'.repeat(12) + '0050' + '02' + '06');
    // value: id 7, mode weighted, 2 clusters (north has weight 0), pad; then {id, weight, backends, flags} per cluster
    assert.equal(
      hex(services[0]!.value),
      '07000000' + '00' + '02' + '0000' + '01000000' + '50000000' + '02000000' + '01000000' + '02000000' + '14000000' + '01000000' + '01000000' + '00'.repeat(6 * 16),
    );
    const orders = backends.filter((b) => hex(b.key).startsWith('07000000'));
    assert.deepEqual(orders.map((b) => [hex(b.key), hex(b.value)]), [
      ['070000000100000000000000', '7f000001' + '00'.repeat(12) + '46a0' + '02' + '00'],
      ['070000000100000001000000', '7f000001' + '00'.repeat(12) + '46a1' + '02' + '00'],
      ['070000000200000000000000', '7f000001' + '00'.repeat(12) + '46a2' + '02' + '00'],
    ]);
  });

  test('decoders read back what the encoders wrote', () => {
    const compiled = compilePolicy(POLICY, ALL_UP);
    const services = compiled.maps.find((m) => m.map === LB_MAPS.services)!.entries;
    assert.deepEqual(decodeService(services[1]!.value), {
      serviceId: 8,
      mode: 'ordered',
      slots: [
        { clusterId: 1, weight: 1, backendCount: 1, healthy: true, viaGateway: false },
        { clusterId: 3, weight: 1, backendCount: 1, healthy: true, viaGateway: true },
        { clusterId: 2, weight: 1, backendCount: 1, healthy: true, viaGateway: false },
      ],
    });
    const backends = compiled.maps.find((m) => m.map === LB_MAPS.backends)!.entries.map((b) => decodeEndpoint(b.value));
    assert.ok(backends.includes('127.0.0.1:18443'), 'north is reached through its gateway, not 10.3.0.7');
    assert.ok(!backends.includes('10.3.0.7:8080'));
    assert.ok(backends.includes('[::1]:5353'));
  });
});

describe('policy semantics under health', () => {
  test('ActiveActive splits by weight among the healthy clusters', () => {
    assert.deepEqual(shares(POLICY, ALL_UP, 'orders'), { east: 0.8, west: 0.2 });
    assert.deepEqual(shares(POLICY, setHealth(POLICY, ALL_UP, 'orders', 'west', 'down'), 'orders'), { east: 1, west: 0 });
    const eastDown = setHealth(POLICY, setHealth(POLICY, ALL_UP, 'orders', '127.0.0.1:18080', 'down'), 'orders', '127.0.0.1:18081', 'down');
    assert.deepEqual(shares(POLICY, eastDown, 'orders'), { east: 0, west: 1 });
  });

  test('FailOver: the first cluster in order with a healthy endpoint, and back when it recovers', () => {
    assert.deepEqual(shares(POLICY, ALL_UP, 'payments'), { east: 1, north: 0, west: 0 });
    const eastDown = setHealth(POLICY, ALL_UP, 'payments', '127.0.0.1:18083', 'down');
    assert.deepEqual(shares(POLICY, eastDown, 'payments'), { east: 0, north: 1, west: 0 });
    const northBehindDown = setHealth(POLICY, eastDown, 'payments', '10.3.0.7:8080', 'down');
    assert.deepEqual(shares(POLICY, northBehindDown, 'payments'), { east: 0, north: 0, west: 1 }, 'a gateway with no healthy endpoint behind it is not healthy');
    const gatewayDown = setHealth(POLICY, eastDown, 'payments', '127.0.0.1:18443', 'down');
    assert.deepEqual(shares(POLICY, gatewayDown, 'payments'), { east: 0, north: 0, west: 1 });
    assert.deepEqual(shares(POLICY, setHealth(POLICY, eastDown, 'payments', '127.0.0.1:18083', 'up'), 'payments'), { east: 1, north: 0, west: 0 });
  });

  test('Locality: only the local cluster, even when it is down', () => {
    assert.deepEqual(shares(POLICY, ALL_UP, 'local'), { east: 1 });
    assert.deepEqual(shares(POLICY, setHealth(POLICY, ALL_UP, 'local', 'east', 'down'), 'local'), { east: 0 });
  });

  test('health changes only the flags and backend lists, never the keys of lb_services', () => {
    const down = setHealth(POLICY, ALL_UP, 'orders', 'east', 'down');
    const a = compilePolicy(POLICY, ALL_UP).maps.find((m) => m.map === LB_MAPS.services)!.entries;
    const b = compilePolicy(POLICY, down).maps.find((m) => m.map === LB_MAPS.services)!.entries;
    assert.deepEqual(a.map((e) => hex(e.key)), b.map((e) => hex(e.key)));
    assert.equal(decodeService(b[0]!.value).slots[0]!.healthy, false);
  });

  test('setHealth names what it does not know, and marking up clears the mark', () => {
    assert.throws(() => setHealth(POLICY, ALL_UP, 'order', 'east', 'down'), (e: unknown) => e instanceof HealthTargetError && /no service "order" \(services: orders, payments, local\)/.test(e.message));
    assert.throws(() => setHealth(POLICY, ALL_UP, 'orders', '127.0.0.1:9', 'down'), /has no cluster or endpoint "127.0.0.1:9"/);
    const down = setHealth(POLICY, ALL_UP, 'local', '[0:0::1]:5353', 'down');
    assert.deepEqual(down, { local: { '[::1]:5353': 'down' } }, 'endpoints are kept in their canonical spelling');
    assert.deepEqual(setHealth(POLICY, down, 'local', '[::1]:5353', 'up'), {});
  });
});

describe('planApply: ordered writes', () => {
  test('backends first, then services; stale services before stale backends', () => {
    const before = compilePolicy(POLICY, ALL_UP);
    const smaller = parsePolicy(`version: 1
localCluster: east
clusters: { east: { id: 1, nodes: [] } }
services:
  - { name: orders, id: 7, vip: 127.100.0.20:80, policy: { type: Locality }, endpoints: { east: [127.0.0.1:18080] } }
`);
    const current = new Map(before.maps.map((m) => [m.map, m.entries.map((e) => e.key)] as const));
    const ops = planApply(compilePolicy(smaller, ALL_UP), current);
    const summary = ops.map((o) => `${o.op} ${o.map}`);
    assert.deepEqual([...new Set(summary)], [`update ${LB_MAPS.backends}`, `update ${LB_MAPS.services}`, `delete ${LB_MAPS.services}`, `delete ${LB_MAPS.backends}`]);
    assert.equal(ops.filter((o) => o.op === 'delete' && o.map === LB_MAPS.services).length, 2, 'payments and local go');
    assert.equal(ops.filter((o) => o.op === 'delete' && o.map === LB_MAPS.backends).length, before.maps[0]!.entries.length - 1);
    assert.deepEqual(planApply(before, current).filter((o) => o.op === 'delete'), [], 'the same policy deletes nothing');
  });
});

describe('serviceStatus: counts next to the policy', () => {
  test('per-CPU counters from a BTF-decoded dump are summed; shares and misses per service', () => {
    const cpu = (connects: number): { connects: string; datagrams: string } => ({ connects: String(connects), datagrams: '0' });
    const dump = [
      { key: { service_id: 7, cluster_id: 1 }, value: [cpu(500), cpu(300)] },
      { key: { service_id: 7, cluster_id: 2 }, value: [cpu(200), cpu(0)] },
      { key: { service_id: 7, cluster_id: 0 }, value: [cpu(3), cpu(0)] },
      { key: 'not decoded', value: 'ff' },
    ];
    const counts = countsFromDump(dump);
    assert.equal(counts.length, 3);
    const [orders] = serviceStatus(POLICY, ALL_UP, counts);
    assert.equal(orders!.total, 1000);
    assert.deepEqual(orders!.noBackend, { connects: 3, datagrams: 0 });
    assert.deepEqual(orders!.clusters.map((c) => [c.cluster, c.connects, c.share, c.expectedShare]), [['east', 800, 0.8, 0.8], ['west', 200, 0.2, 0.2], ['north', 0, 0, 0]]);
  });
});

describe('programSets: settings for the loader', () => {
  test('booleans become 1/0 and dotted quads the network-order number', () => {
    const template = findTemplate(listTemplates(), 'mesh-intercept')!;
    const sets = programSets({ name: 'm', template: template.name, attach: {}, settings: { proxy_ip4: '127.0.0.1', proxy_port: 15001, proxy_mark: 0x5eed }, at: { line: 1, col: 1 } }, template);
    assert.deepEqual(sets, { proxy_ip4: String(0x0100007f), proxy_port: '15001', proxy_mark: String(0x5eed) });
    const lb = findTemplate(listTemplates(), 'clusterset-socket-lb')!;
    assert.deepEqual(programSets({ name: 'l', template: lb.name, attach: {}, settings: { emit_events: true, reject_no_backend: false }, at: { line: 1, col: 1 } }, lb), { emit_events: '1', reject_no_backend: '0' });
  });
});
