import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { formatValue, readBpfObject, type Btf } from '@ebpf-studio/libbpf-ts';
import { compileBpf, tempDir } from '@ebpf-studio/test-support';
import { commonHeadersDir, parseSocketAddress } from '../src/policy';
import { AF, encodeBackendKey, encodeEndpoint, encodeService, encodeServiceKey, encodeStatsKey, IPPROTO, LB_CLUSTER_FLAGS, LB_CLUSTER_NONE, LB_LAYOUTS, LB_MAX_CLUSTERS, LB_MAX_SERVICES, LB_MODE } from '../src/policy/socket-lb-layout';
import { compileTemplate, template, TEMPLATES_DIR } from './template-socket-harness';

/**
 * The TypeScript layouts of clusterset-socket-lb's maps against the header they mirror: struct sizes,
 * members and offsets from the compiled object's BTF, #define and enum values from a probe object
 * that includes the header, and encoded bytes decoded back through BTF.
 */

const NAME = 'clusterset-socket-lb';

function members(btf: Btf, struct: string): { name: string; offset: number; size: number }[] | undefined {
  const type = btf.findByName(struct, 'STRUCT');
  if (type?.kind !== 'STRUCT') return undefined;
  return type.members.map((m) => ({ name: m.name, offset: m.bitOffset / 8, size: btf.sizeOf(m.type)! }));
}

/** The header's constants, read back from `const volatile` copies in a probe object. */
function headerConstants(names: readonly string[]): Record<string, number> {
  const dir = tempDir();
  const manifest = template(NAME);
  const source = join(dir, 'constants.bpf.c');
  writeFileSync(
    source,
    [
      '#include <linux/bpf.h>',
      '#include <bpf/bpf_helpers.h>',
      '#include "studio_net.h"',
      '#include "studio_events.h"',
      `#include "${manifest.header}"`,
      ...names.map((n) => `const volatile __u32 c_${n} = ${n};`),
      'char LICENSE[] SEC("license") = "GPL";',
    ].join('\n'),
  );
  const { spec } = readBpfObject(readFileSync(compileBpf(source, dir, ['-I', commonHeadersDir(TEMPLATES_DIR), '-I', manifest.dir])));
  return Object.fromEntries(names.map((n) => [n, Number(spec.globals.find((g) => g.name === `c_${n}`)?.initialValue)]));
}

describe('clusterset-socket-lb: TypeScript layouts = the header', () => {
  const { spec } = readBpfObject(compileTemplate(NAME));
  const btf = spec.btf!;

  for (const layout of LB_LAYOUTS) {
    test(`struct ${layout.name}: size, members and offsets`, () => {
      const fromBtf = members(btf, layout.name);
      assert.ok(fromBtf, `struct ${layout.name} is in the object's BTF`);
      assert.equal(btf.sizeOf(btf.findByName(layout.name, 'STRUCT')!.id), layout.size, 'size');
      const fromTs = Object.entries(layout.fields).map(([name, f]) => ({ name, offset: f.offset, size: f.size }));
      assert.deepEqual(fromTs, fromBtf);
    });
  }

  test('constants: the #defines and enums the encoders use', () => {
    const c = headerConstants(['LB_MAX_CLUSTERS', 'LB_MAX_SERVICES', 'LB_MODE_WEIGHTED', 'LB_MODE_ORDERED', 'LB_CLUSTER_HEALTHY', 'LB_CLUSTER_VIA_GATEWAY', 'LB_CLUSTER_NONE', 'AF_INET', 'AF_INET6', 'IPPROTO_TCP', 'IPPROTO_UDP']);
    assert.deepEqual(c, {
      LB_MAX_CLUSTERS, LB_MAX_SERVICES, LB_MODE_WEIGHTED: LB_MODE.weighted, LB_MODE_ORDERED: LB_MODE.ordered, LB_CLUSTER_HEALTHY: LB_CLUSTER_FLAGS.healthy,
      LB_CLUSTER_VIA_GATEWAY: LB_CLUSTER_FLAGS.viaGateway, LB_CLUSTER_NONE, AF_INET: AF[4], AF_INET6: AF[6], IPPROTO_TCP: IPPROTO.tcp, IPPROTO_UDP: IPPROTO.udp,
    });
  });

  test('encoded keys and values decode through BTF to the same fields', () => {
    const decode = (struct: string, bytes: Uint8Array): unknown => formatValue(btf, btf.findByName(struct, 'STRUCT')!.id, bytes);
    const vip = parseSocketAddress('[fd00:eb5::20]:8080');
    const backend = parseSocketAddress('127.0.0.1:18080');
    assert.ok(typeof vip !== 'string' && typeof backend !== 'string');
    const swap16 = (port: number): number => ((port & 0xff) << 8) | (port >> 8);
    assert.deepEqual(decode('lb_service_key', encodeServiceKey(vip, 'udp')), {
      addr: [0, 1, 2, 3].map((i) => Buffer.from(vip.bytes).readUInt32LE(i * 4)),
      port: swap16(8080),
      family: 10,
      proto: 17,
    });
    assert.deepEqual(decode('lb_endpoint', encodeEndpoint(backend)), { addr: [Buffer.from([127, 0, 0, 1]).readUInt32LE(0), 0, 0, 0], port: swap16(18080), family: 2, pad: 0 });
    assert.deepEqual(decode('lb_backend_key', encodeBackendKey(7, 2, 1)), { service_id: 7, cluster_id: 2, index: 1 });
    assert.deepEqual(decode('lb_stats_key', encodeStatsKey(7, 0)), { service_id: 7, cluster_id: 0 });
    const service = decode('lb_service', encodeService(7, 'ordered', [
      { clusterId: 1, weight: 1, backendCount: 2, healthy: false, viaGateway: false },
      { clusterId: 3, weight: 1, backendCount: 1, healthy: true, viaGateway: true },
    ])) as { service_id: number; mode: number; cluster_count: number; clusters: unknown[] };
    assert.equal(service.service_id, 7);
    assert.equal(service.mode, LB_MODE.ordered);
    assert.equal(service.cluster_count, 2);
    assert.deepEqual(service.clusters.slice(0, 3), [
      { cluster_id: 1, weight: 1, backend_count: 2, flags: 0 },
      { cluster_id: 3, weight: 1, backend_count: 1, flags: 3 },
      { cluster_id: 0, weight: 0, backend_count: 0, flags: 0 },
    ]);
  });
});
