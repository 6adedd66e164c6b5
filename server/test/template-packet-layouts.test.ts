import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { formatValue, readBpfObject, type Btf } from '@ebpf-studio/libbpf-ts';
import { compileBpf, tempDir } from '@ebpf-studio/test-support';
import { commonHeadersDir } from '../src/policy';
import { SKB_ACTION, SKB_DIR, SKB_LAYOUTS, SKB_MAX_RULES, encodeRule, encodeRuleKey } from '../src/policy/cgroup-skb-layout';
import { encodeGatewayBackend, encodeVipKey, encodeVipMeta, GW_BACKEND_UP, GW_LAYOUTS, GW_MAX_BACKENDS, GW_MAX_FLOWS, GW_MAX_VIPS, GW_NO_BACKEND, GW_RING_ENTRIES, GW_STAT, GW_STAT_MAX } from '../src/policy/gateway-layout';
import { CT_DIR, encodeNatBackend, encodeNatServiceKey, NAT_BACKEND_UP, NAT_LAYOUTS, NAT_MAX_BACKENDS, NAT_MAX_CONNECTIONS, NAT_MAX_SERVICES, NAT_RING_ENTRIES, NAT_SNAT_PORT_TRIES, NAT_STAT, NAT_STAT_MAX } from '../src/policy/nat-layout';
import type { StructLayout } from '../src/policy/struct-layout';
import { compileTemplate, template, TEMPLATES_DIR } from './template-socket-harness';

/**
 * The TypeScript layouts of the packet templates' maps (gateway-layout.ts, nat-layout.ts,
 * cgroup-skb-layout.ts) against the headers they mirror: struct sizes, members and offsets from each
 * compiled object's BTF, #define and enum values from a probe object that includes the header, and
 * encoded bytes decoded back through BTF.
 */

function members(btf: Btf, struct: string): { name: string; offset: number; size: number }[] | undefined {
  const type = btf.findByName(struct, 'STRUCT');
  if (type?.kind !== 'STRUCT') return undefined;
  return type.members.map((m) => ({ name: m.name, offset: m.bitOffset / 8, size: btf.sizeOf(m.type)! }));
}

function headerConstants(name: string, names: readonly string[]): Record<string, number> {
  const dir = tempDir();
  const manifest = template(name);
  const source = join(dir, 'constants.bpf.c');
  writeFileSync(source, [
    '#include <linux/bpf.h>',
    '#include <bpf/bpf_helpers.h>',
    `#include "${manifest.header}"`,
    ...names.map((n) => `const volatile __u32 c_${n} = ${n};`),
    'char LICENSE[] SEC("license") = "GPL";',
  ].join('\n'));
  const { spec } = readBpfObject(readFileSync(compileBpf(source, dir, ['-I', commonHeadersDir(TEMPLATES_DIR), '-I', manifest.dir])));
  return Object.fromEntries(names.map((n) => [n, Number(spec.globals.find((g) => g.name === `c_${n}`)?.initialValue)]));
}

const SUITES: { name: string; layouts: readonly StructLayout[]; constants: Record<string, number> }[] = [
  {
    name: 'xdp-maglev-gateway',
    layouts: GW_LAYOUTS,
    constants: {
      MAX_VIPS: GW_MAX_VIPS, MAX_BACKENDS: GW_MAX_BACKENDS, MAX_FLOWS: GW_MAX_FLOWS, MAGLEV_RING_ENTRIES: GW_RING_ENTRIES, MAGLEV_NO_BACKEND: GW_NO_BACKEND, BACKEND_F_UP: GW_BACKEND_UP,
      STAT_NEW_FLOW: GW_STAT.newFlow, STAT_REPINNED: GW_STAT.repinned, STAT_NO_BACKEND: GW_STAT.noBackend, STAT_FRAGMENT: GW_STAT.fragment, STAT_TOO_BIG: GW_STAT.tooBig, STAT_MAX: GW_STAT_MAX,
    },
  },
  {
    name: 'tc-cluster-nat',
    layouts: NAT_LAYOUTS,
    constants: {
      MAX_SERVICES: NAT_MAX_SERVICES, MAX_BACKENDS: NAT_MAX_BACKENDS, MAX_CONNECTIONS: NAT_MAX_CONNECTIONS, NAT_RING_ENTRIES, SNAT_PORT_TRIES: NAT_SNAT_PORT_TRIES, BACKEND_F_UP: NAT_BACKEND_UP,
      CT_FORWARD: CT_DIR.forward, CT_REPLY: CT_DIR.reply, NAT_NEW_CONNECTION: NAT_STAT.newConnection, NAT_NO_BACKEND: NAT_STAT.noBackend, NAT_NO_PORT: NAT_STAT.noPort, NAT_STAT_MAX,
    },
  },
  {
    name: 'cgroup-skb-policy',
    layouts: SKB_LAYOUTS,
    constants: { MAX_RULES: SKB_MAX_RULES, DIR_INGRESS: SKB_DIR.ingress, DIR_EGRESS: SKB_DIR.egress, ACTION_DENY: SKB_ACTION.deny, ACTION_ALLOW: SKB_ACTION.allow },
  },
];

for (const suite of SUITES) {
  describe(`${suite.name}: TypeScript layouts = the header`, () => {
    const btf = readBpfObject(compileTemplate(suite.name)).spec.btf!;
    for (const layout of suite.layouts) {
      test(`struct ${layout.name}: size, members and offsets`, () => {
        const fromBtf = members(btf, layout.name);
        assert.ok(fromBtf, `struct ${layout.name} is in the object's BTF`);
        assert.equal(btf.sizeOf(btf.findByName(layout.name, 'STRUCT')!.id), layout.size, 'size');
        assert.deepEqual(Object.entries(layout.fields).map(([name, f]) => ({ name, offset: f.offset, size: f.size })), fromBtf);
      });
    }
    test('constants: the #defines and enums the encoders use', () => {
      assert.deepEqual(headerConstants(suite.name, Object.keys(suite.constants)), suite.constants);
    });
  });
}

describe('packet templates: encoded keys and values decode through BTF to the same fields', () => {
  const swap16 = (port: number): number => ((port & 0xff) << 8) | (port >> 8);
  const le32 = (...bytes: number[]): number => Buffer.from(bytes).readUInt32LE(0);

  test('xdp-maglev-gateway: vip_key, vip_meta, backend', () => {
    const btf = readBpfObject(compileTemplate('xdp-maglev-gateway')).spec.btf!;
    const decode = (struct: string, bytes: Uint8Array): unknown => formatValue(btf, btf.findByName(struct, 'STRUCT')!.id, bytes);
    const key = encodeVipKey('203.0.113.20', 80, 'udp');
    assert.deepEqual(decode('vip_key', key), { addr: [le32(203, 0, 113, 20), 0, 0, 0], port: swap16(80), proto: 17, family: 2 });
    assert.deepEqual((decode('vip_meta', encodeVipMeta(key, 3)) as { ring: number }).ring, 3);
    const backend = decode('backend', encodeGatewayBackend('fd00::7', '0a:00:00:00:00:77')) as Record<string, unknown>;
    assert.deepEqual([backend['addr'], backend['family'], backend['flags']], [[0xfd, 0, 0, 0x07000000], 10, 1]);
  });

  test('tc-cluster-nat: service_key, nat_backend', () => {
    const btf = readBpfObject(compileTemplate('tc-cluster-nat')).spec.btf!;
    const decode = (struct: string, bytes: Uint8Array): unknown => formatValue(btf, btf.findByName(struct, 'STRUCT')!.id, bytes);
    assert.deepEqual(decode('service_key', encodeNatServiceKey('203.0.113.30', 53, 'udp')), { vip: le32(203, 0, 113, 30), port: swap16(53), proto: 17, pad: 0 });
    assert.deepEqual(decode('nat_backend', encodeNatBackend('10.20.0.10', 8080, false)), { addr: le32(10, 20, 0, 10), port: swap16(8080), flags: 0, pad: 0 });
  });

  test('cgroup-skb-policy: rule_key (IPv4 mapped, prefix after 32 bits of dir/proto/port), rule', () => {
    const btf = readBpfObject(compileTemplate('cgroup-skb-policy')).spec.btf!;
    const decode = (struct: string, bytes: Uint8Array): unknown => formatValue(btf, btf.findByName(struct, 'STRUCT')!.id, bytes);
    const key = decode('rule_key', encodeRuleKey({ direction: 'egress', cidr: '10.2.0.0/16', protocol: 'tcp', port: 8080 })) as Record<string, unknown>;
    assert.deepEqual([key['prefixlen'], key['dir'], key['proto'], key['port']], [32 + 96 + 16, 1, 6, swap16(8080)]);
    assert.deepEqual(decode('rule', encodeRule(4, 'allow')), { id: 4, action: 1 });
  });
});
