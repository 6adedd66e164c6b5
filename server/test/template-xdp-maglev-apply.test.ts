import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LoadedObject, mapDelete, mapDump, mapLookupPerCpu, mapUpdate, readBpfObject, testRun, type BpfObjectSpec } from '@ebpf-studio/libbpf-ts';
import { buildFrame, parseFrame, requireKernel, type FrameSpec } from '@ebpf-studio/test-support';
import { ALL_UP, compileGatewayPolicy, parsePolicy, type MapEntryBytes, type Policy } from '../src/policy';
import { encodeFlowKey, GW_STAT, u32Bytes } from '../src/policy/gateway-layout';
import { flowHash } from '../src/policy/maglev';
import { applyPolicyMaps, valueBytes, type PolicyMapAccess } from '../src/project/policy-maps';
import { compileTemplate, settingsPatches } from './template-socket-harness';

/**
 * `apply` on a loaded xdp-maglev-gateway object: the policy of a project written through the same code
 * run/apply use (applyPolicyMaps, values read back BTF-decoded as the agent answers them), a frame
 * test-run before and after a change of weights, the program never reloaded.
 */

const NAME = 'xdp-maglev-gateway';
const XDP_TX = 3;
const RING = 251;
const MAC = '02:00:00:00:00:fe';
const GW = { west: '198.51.100.10', north: '198.51.100.20' };

const policyText = (weights: string): string => `version: 1
localCluster: east
clusters:
  east: { id: 1, nodes: [] }
  west: { id: 2, gateway: ${GW.west}:443, nodes: [] }
  north: { id: 3, gateway: ${GW.north}:443, nodes: [] }
services:
  - name: orders
    vip: 203.0.113.20:80
    policy: { type: ActiveActive, weights: { ${weights} } }
    endpoints: { west: [10.2.0.10:8080], north: [10.3.0.10:8080] }
programs:
  - name: gateway
    template: ${NAME}
    attach: { interface: eth0 }
    nextHop: "${MAC}"
    settings: { ring_size: ${RING}, encap_saddr4: 192.0.2.1, encap_saddr6: "fd00:ffff::1" }
`;

/** A loaded object's maps as the agent serves a session's: keys as bytes, values decoded by BTF. */
function objectMaps(object: LoadedObject, spec: BpfObjectSpec): PolicyMapAccess {
  return {
    dump: async (map) => {
      const m = spec.maps.find((s) => s.name === map)!;
      const entries: MapEntryBytes[] = [];
      let after: string | undefined;
      do {
        const page = mapDump(object.map(map).fd, { pageSize: 1000, ...(after ? { after } : {}), decode: { btf: spec.btf!, ...(m.keyTypeId ? { keyTypeId: m.keyTypeId } : {}), ...(m.valueTypeId ? { valueTypeId: m.valueTypeId } : {}) } });
        entries.push(...page.entries.map((e) => ({ key: e.key, value: valueBytes(map, e.valueDecoded) })));
        after = page.next;
      } while (after);
      return entries;
    },
    update: async (map, key, value) => mapUpdate(object.map(map).fd, key, value),
    delete: async (map, key) => void mapDelete(object.map(map).fd, key),
  };
}

describe('xdp-maglev-gateway: apply a policy to a loaded object', () => {
  test('apply writes VIP, gateways and the Maglev ring; a new apply changes the table without a reload', async (t) => {
    if (!requireKernel(t)) return;
    const bytes = compileTemplate(NAME);
    const spec = readBpfObject(bytes).spec;
    const v1: Policy = parsePolicy(policyText('west: 50, north: 50'));
    const object = LoadedObject.load(bytes, { patches: settingsPatches(bytes, NAME, v1.programs[0]!.settings) });
    try {
      const prog = object.program('xdp_maglev_gateway').fd;
      const access = objectMaps(object, spec);
      const run = (frame: FrameSpec): string => {
        const r = testRun(prog, { dataIn: buildFrame(frame) });
        assert.equal(r.retval, XDP_TX);
        return parseFrame(r.dataOut).ip[0]!.dst;
      };
      const write1 = await applyPolicyMaps(access, v1, ALL_UP);
      assert.equal(write1.deletes, 0);
      const table1 = compileGatewayPolicy(v1, ALL_UP, { ringSize: RING }).vips.get('orders')!.table;
      const backends = compileGatewayPolicy(v1, ALL_UP, { ringSize: RING }).backends;
      const westSlot = backends.get(`${GW.west}:443`)!;
      // A flow the 50/50 table sends to west, and one it sends to north.
      const specs = Array.from({ length: 64 }, (_, i): FrameSpec => ({ src: `10.9.0.${i + 1}`, dst: '203.0.113.20', proto: 'tcp', sport: 40000 + i, dport: 80, dstMac: '02:00:00:00:00:02' }));
      const slotOf = (s: FrameSpec): number => table1[flowHash(encodeFlowKey(s.src, s.dst, s.sport, s.dport, s.proto)) % RING]!;
      const toWest = specs.find((s) => slotOf(s) === westSlot)!;
      const toNorth = specs.find((s) => slotOf(s) !== westSlot)!;
      assert.equal(run(toWest), GW.west, 'before: the table says west');
      assert.equal(run(toNorth), GW.north, 'before: the table says north');

      // Applied twice: the same maps (the VIP flips ring, nothing is deleted).
      assert.equal((await applyPolicyMaps(access, v1, ALL_UP)).deletes, 0);
      assert.equal(run(toWest), GW.west);

      // West leaves the policy: its gateway slot is zeroed, the new ring has north only.
      const v2 = parsePolicy(policyText('north: 100'));
      await applyPolicyMaps(access, v2, ALL_UP);
      assert.equal(object.program('xdp_maglev_gateway').fd, prog, 'the same program');
      assert.equal(run(toWest), GW.north, 'after: the flow pinned to west is repinned to north');
      const repinned = (mapLookupPerCpu(object.map('gateway_stats').fd, u32Bytes(GW_STAT.repinned)) ?? []).reduce((n, v) => n + Number(Buffer.from(v).readBigUInt64LE(0)), 0);
      assert.equal(repinned, 1);
      const fresh: FrameSpec = { ...toWest, sport: toWest.sport + 1000 };
      assert.equal(run(fresh), GW.north, 'after: a new flow goes by the new table');
      assert.equal(run(toNorth), GW.north);

      // Back to 50/50: a new flow of west's slot goes to west again.
      await applyPolicyMaps(access, v1, ALL_UP);
      const back = specs.filter((s) => s !== toWest && s !== toNorth).find((s) => slotOf(s) === westSlot)!;
      assert.equal(run(back), GW.west);
    } finally {
      object.close();
    }
  });
});
