import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { settingsToPatches, type GlobalVariable } from '../src/engine/settings';
import { UsageError } from '../src/engine/usage-error';
import {
  ALL_UP, compileGatewayPolicy, compileNatPolicy, compileRules, findTemplate, listTemplates, parsePolicy, planWrites, PolicyError, programSets, setHealth, type CompiledMap, type MapEntryBytes,
} from '../src/policy';
import { encodeRule, encodeRuleKey } from '../src/policy/cgroup-skb-layout';
import { encodeGatewayBackend, encodeVipKey, encodeVipMeta, u32Bytes } from '../src/policy/gateway-layout';
import { buildMaglevTable, MAGLEV_NO_BACKEND } from '../src/policy/maglev';
import { encodeNatBackend, encodeNatService, encodeNatServiceKey } from '../src/policy/nat-layout';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const RING = 251;
const MAC = '02:00:00:00:00:fe';

const GATEWAY_POLICY = parsePolicy(`version: 1
localCluster: east
clusters:
  east: { id: 1, nodes: [] }
  west: { id: 2, gateway: 198.51.100.10:443, nodes: [] }
  north: { id: 3, gateway: 198.51.100.20:443, nodes: [] }
services:
  - name: orders
    vip: 203.0.113.20:80
    policy: { type: ActiveActive, weights: { west: 60, north: 40 } }
    endpoints: { west: [10.2.0.10:8080, 10.2.0.11:8080], north: [10.3.0.10:8080] }
  - name: payments
    vip: 203.0.113.21:443
    policy: { type: FailOver, order: [east, north, west] }
    endpoints: { east: [10.1.0.5:8443], north: [10.3.0.11:8443], west: [10.2.0.12:8443] }
programs:
  - name: gateway
    template: xdp-maglev-gateway
    attach: { interface: eth0 }
    nextHop: "${MAC}"
    settings: { ring_size: ${RING}, encap_saddr4: 192.0.2.1, encap_saddr6: "fd00:ffff::1" }
`);

const NAT_POLICY = parsePolicy(`version: 1
localCluster: east
clusters:
  east: { id: 1, nodes: [] }
  west: { id: 2, nodes: [] }
services:
  - name: orders
    vip: 203.0.113.30:80
    policy: { type: ActiveActive, weights: { east: 80, west: 20 } }
    endpoints: { east: [10.1.0.10:8080, 10.1.0.11:8080], west: [10.2.0.10:8080] }
  - name: dns
    vip: 203.0.113.30:53
    protocol: udp
    policy: { type: FailOver, order: [west, east] }
    endpoints: { east: [10.1.0.53:53], west: [10.2.0.53:53] }
`);

const mapOf = (maps: readonly CompiledMap[], name: string): CompiledMap => maps.find((m) => m.map === name)!;
const ringOf = (m: CompiledMap, ring: number): number[] => m.entries.filter((e) => Math.floor(Buffer.from(e.key).readUInt32LE(0) / RING) === ring).map((e) => Buffer.from(e.value).readUInt32LE(0));
const asCurrent = (maps: readonly CompiledMap[]): Map<string, MapEntryBytes[]> => new Map(maps.map((m) => [m.map, [...m.entries]]));

describe('compileGatewayPolicy: xdp-maglev-gateway', () => {
  test('the sample policy: gateways as backends, a Maglev ring per VIP by the policy weights, VIPs pointing at their rings', () => {
    const c = compileGatewayPolicy(GATEWAY_POLICY, ALL_UP, { ringSize: RING, nextHop: MAC });
    assert.deepEqual(c.maps.map((m) => [m.map, m.stale]), [['backends', 'zero'], ['maglev_rings', 'keep'], ['vip_table', 'zero'], ['vips', 'delete']]);
    assert.deepEqual([...c.backends], [['198.51.100.10:443', 0], ['198.51.100.20:443', 1]]);
    assert.deepEqual(mapOf(c.maps, 'backends').entries.map((e) => [hex(e.key), hex(e.value)]), [
      [hex(u32Bytes(0)), hex(encodeGatewayBackend('198.51.100.10', MAC))],
      [hex(u32Bytes(1)), hex(encodeGatewayBackend('198.51.100.20', MAC))],
    ]);
    const rings = mapOf(c.maps, 'maglev_rings');
    assert.equal(rings.entries.length, 2 * RING);
    assert.deepEqual(ringOf(rings, 0), [...buildMaglevTable([{ id: 0, weight: 60 }, { id: 1, weight: 40 }], RING)], 'orders: west 60, north 40');
    assert.deepEqual(ringOf(rings, 2), new Array(RING).fill(1), 'payments: east has no gateway, north is the first in order with one');
    const orders = encodeVipKey('203.0.113.20', 80, 'tcp');
    const payments = encodeVipKey('203.0.113.21', 443, 'tcp');
    assert.deepEqual(mapOf(c.maps, 'vips').entries.map((e) => [hex(e.key), hex(e.value)]), [[hex(orders), hex(u32Bytes(0))], [hex(payments), hex(u32Bytes(1))]]);
    assert.deepEqual(mapOf(c.maps, 'vip_table').entries.map((e) => hex(e.value)), [hex(encodeVipMeta(orders, 0)), hex(encodeVipMeta(payments, 2))]);
  });

  test('applied again: the same slots, each VIP flips to the spare ring of its pair; a gateway down leaves the table and its backend', () => {
    const first = compileGatewayPolicy(GATEWAY_POLICY, ALL_UP, { ringSize: RING, nextHop: MAC });
    const health = { manual: setHealth(GATEWAY_POLICY, {}, 'orders', 'west', 'down') };
    const second = compileGatewayPolicy(GATEWAY_POLICY, health.manual, { ringSize: RING, nextHop: MAC, current: asCurrent(first.maps) });
    assert.deepEqual([...second.vips].map(([n, v]) => [n, v.index, v.ring]), [['orders', 0, 1], ['payments', 1, 3]]);
    assert.deepEqual([...new Set(second.vips.get('orders')!.table)], [1], 'orders: all on north');
    assert.deepEqual(mapOf(second.maps, 'backends').entries.map((e) => hex(e.value)), [hex(encodeGatewayBackend('198.51.100.10', MAC, true)), hex(encodeGatewayBackend('198.51.100.20', MAC))], 'west is still healthy for payments');
    const ops = planWrites(second, asCurrent(first.maps));
    assert.equal(ops.filter((o) => o.op === 'delete').length, 0);
    const third = compileGatewayPolicy(GATEWAY_POLICY, ALL_UP, { ringSize: RING, nextHop: MAC, current: asCurrent(second.maps) });
    assert.deepEqual([...third.vips].map(([, v]) => v.ring), [0, 2]);
  });

  test('a ring that does not fit is a usage error', () => {
    assert.throws(() => compileGatewayPolicy(GATEWAY_POLICY, ALL_UP, { ringSize: 1048573 }), UsageError);
  });
});

describe('compileNatPolicy: tc-cluster-nat', () => {
  test('the sample policy: endpoints as backends, a cluster\'s weight split among its backends, FailOver to the first healthy cluster', () => {
    const c = compileNatPolicy(NAT_POLICY, ALL_UP, { ringSize: RING });
    assert.deepEqual(c.maps.map((m) => m.map), ['nat_backends', 'nat_rings', 'services']);
    assert.deepEqual([...c.backends], [['10.1.0.10:8080', 0], ['10.1.0.11:8080', 1], ['10.1.0.53:53', 2], ['10.2.0.10:8080', 3], ['10.2.0.53:53', 4]]);
    assert.ok(mapOf(c.maps, 'nat_backends').entries.some((e) => hex(e.key) === hex(u32Bytes(3)) && hex(e.value) === hex(encodeNatBackend('10.2.0.10', 8080))));
    assert.deepEqual(mapOf(c.maps, 'services').entries.map((e) => [hex(e.key), hex(e.value)]), [
      [hex(encodeNatServiceKey('203.0.113.30', 80, 'tcp')), hex(encodeNatService(0))],
      [hex(encodeNatServiceKey('203.0.113.30', 53, 'udp')), hex(encodeNatService(2))],
    ]);
    assert.deepEqual(ringOf(mapOf(c.maps, 'nat_rings'), 0), [...buildMaglevTable([{ id: 0, weight: 40 }, { id: 1, weight: 40 }, { id: 3, weight: 20 }], RING)]);
    assert.deepEqual([...new Set(ringOf(mapOf(c.maps, 'nat_rings'), 2))], [4], 'dns: west first');
    const down = compileNatPolicy(NAT_POLICY, setHealth(NAT_POLICY, {}, 'dns', 'west', 'down'), { ringSize: RING, current: asCurrent(c.maps) });
    assert.deepEqual([...new Set(down.services.get('dns')!.table)], [2], 'dns fails over to east');
    assert.equal(down.services.get('dns')!.ring, 3, 'into the spare ring');
    const none = compileNatPolicy(NAT_POLICY, setHealth(NAT_POLICY, setHealth(NAT_POLICY, {}, 'dns', 'west', 'down'), 'dns', 'east', 'down'), { ringSize: RING });
    assert.deepEqual([...new Set(none.services.get('dns')!.table)], [MAGLEV_NO_BACKEND]);
  });

  test('an IPv6 service is a positioned error', () => {
    const v6 = parsePolicy(`version: 1
localCluster: east
clusters: { east: { id: 1, nodes: [] } }
services:
  - { name: r, vip: "[fd00::53]:53", policy: { type: Locality }, endpoints: { east: ["[fd00::1]:53"] } }
`, 'ebpf-studio.yaml');
    assert.throws(() => compileNatPolicy(v6, ALL_UP, { ringSize: RING }), /ebpf-studio\.yaml:5:5: service r: tc-cluster-nat translates IPv4 only/);
  });
});

const RULES_FILE = `version: 1
programs:
  - name: fence
    template: cgroup-skb-policy
    attach: { cgroup: ebpf-studio/payments }
    settings: { ingress_default: 0 }
    rules:
      - { direction: ingress, cidr: 10.2.0.0/16, protocol: tcp, port: 8080, action: allow }
      - { cidr: 127.0.0.0/8, action: allow }
      - { direction: egress, cidr: "2001:db8::/32", protocol: udp, action: deny }
`;

describe('compileRules: cgroup-skb-policy', () => {
  test('the rules list: one LPM entry per direction, the rule\'s position as its id', () => {
    const policy = parsePolicy(RULES_FILE);
    const rules = policy.programs[0]!.rules!;
    assert.deepEqual(rules.map((r) => [r.action, r.cidr, r.protocol, r.port, r.direction]), [
      ['allow', '10.2.0.0/16', 'tcp', 8080, 'ingress'], ['allow', '127.0.0.0/8', undefined, undefined, undefined], ['deny', '2001:db8::/32', 'udp', undefined, 'egress'],
    ]);
    const { maps } = compileRules(rules);
    assert.deepEqual(maps[0]!.entries.map((e) => [hex(e.key), hex(e.value)]), [
      [hex(encodeRuleKey({ direction: 'ingress', cidr: '10.2.0.0/16', protocol: 'tcp', port: 8080 })), hex(encodeRule(0, 'allow'))],
      [hex(encodeRuleKey({ direction: 'ingress', cidr: '127.0.0.0/8', protocol: 'any', port: 0 })), hex(encodeRule(1, 'allow'))],
      [hex(encodeRuleKey({ direction: 'egress', cidr: '127.0.0.0/8', protocol: 'any', port: 0 })), hex(encodeRule(1, 'allow'))],
      [hex(encodeRuleKey({ direction: 'egress', cidr: '2001:db8::/32', protocol: 'udp', port: 0 })), hex(encodeRule(2, 'deny'))],
    ]);
  });

  test('bad rules give positioned errors', () => {
    const bad = RULES_FILE.replace('cidr: 127.0.0.0/8, action: allow', 'cidr: 127.0.0.1/8, port: 80, action: permit');
    assert.throws(() => parsePolicy(bad, 'ebpf-studio.yaml'), (err: unknown) => {
      assert.ok(err instanceof PolicyError);
      const lines = err.message.split('\n');
      assert.ok(lines.includes('ebpf-studio.yaml:9:48: program fence.rules[1].action must be allow or deny'), err.message);
      assert.ok(lines.includes('ebpf-studio.yaml:9:17: program fence.rules[1].cidr "127.0.0.1/8" has bits set beyond /8 (the network is 127.0.0.0/8)'), err.message);
      assert.ok(lines.includes('ebpf-studio.yaml:9:30: program fence.rules[1].port needs a protocol: add "protocol: tcp" or "protocol: udp"'), err.message);
      return true;
    });
    const duplicate = RULES_FILE.replace('cidr: 127.0.0.0/8, action: allow', 'direction: ingress, cidr: 10.2.0.0/16, protocol: tcp, port: 8080, action: deny');
    assert.throws(() => parsePolicy(duplicate, 'ebpf-studio.yaml'), /ebpf-studio\.yaml:9:9: program fence\.rules\[1\] matches the same ingress traffic as the rule at line 8:9/);
    assert.throws(() => parsePolicy(RULES_FILE.replace('template: cgroup-skb-policy', 'template: tc-cluster-nat').replace('cgroup: ebpf-studio/payments', 'interface: eth0')), /takes no rules/);
  });
});

describe('settings of format ipv6', () => {
  const saddr6: GlobalVariable = { name: 'encap_saddr6', section: '.rodata', offset: 8, size: 16, typeName: 'const volatile __be32[4]', isConst: true };

  test('settingsToPatches writes an IPv6 address into a 16-byte variable in network order; programSets passes it through', () => {
    const [patch] = settingsToPatches({ encap_saddr6: 'fd00:ffff::1' }, [saddr6]);
    assert.equal(Buffer.from(patch!.bytes, 'base64').toString('hex'), 'fd00ffff000000000000000000000001');
    assert.equal(patch!.offset, 8);
    assert.throws(() => settingsToPatches({ encap_saddr6: '10.0.0.1' }, [saddr6]), /not an IPv6 address/);
    assert.throws(() => settingsToPatches({ encap_saddr6: '7' }, [saddr6]), /16-byte variable/);
    const gateway = findTemplate(listTemplates(), 'xdp-maglev-gateway')!;
    assert.deepEqual(programSets(GATEWAY_POLICY.programs[0]!, gateway), { ring_size: String(RING), encap_saddr4: String(Buffer.from([192, 0, 2, 1]).readUInt32LE(0)), encap_saddr6: 'fd00:ffff::1' });
  });

  test('the policy file checks an ipv6 setting', () => {
    assert.throws(() => parsePolicy(`version: 1
programs:
  - { name: g, template: xdp-maglev-gateway, attach: { interface: eth0 }, settings: { encap_saddr6: 192.0.2.1 } }
`, 'ebpf-studio.yaml'), /ebpf-studio\.yaml:3:3?\d*: program g\.settings\.encap_saddr6 must be an IPv6 address/);
  });
});
