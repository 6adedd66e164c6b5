import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { compileBpf, createTestNodes, ensurePayloadBuilt, eventually, kernelAvailable, requireKernel, tempDir, type TestNode, type TestNodes } from '@ebpf-studio/test-support';
import { connectNode, type NodeConnection } from '../src/controller/connect-node';
import { loadInventory, type Inventory } from '../src/controller/inventory';
import { SessionController } from '../src/controller/session-controller';
import { EventsNotification, EventsSubscribeRequest, MapDumpRequest, SessionListRequest, type EventBatch } from '../src/session-protocol';

const DATA = join(__dirname, '..', '..', 'test', 'data');
const object = (name: string): string => readFileSync(compileBpf(join(DATA, `${name}.bpf.c`), tempDir())).toString('base64');

interface NodeLink {
  id: number;
  prog_id: number;
}
/** bpf_links as the node itself lists them: every link of the kernel (links are not per network namespace). */
function linksOn(node: TestNode): NodeLink[] {
  return JSON.parse(node.exec('bpftool', ['-j', 'link', 'show'])) as NodeLink[];
}

/** None of these links is left, and no XDP/tc program sits on the node's interfaces (those are its own). */
function nothingAttached(node: TestNode, linkIds: (number | undefined)[]): boolean {
  const links = new Set(linksOn(node).map((l) => l.id));
  return linkIds.every((id) => id !== undefined && !links.has(id)) && !node.exec('bpftool', ['-j', 'net', 'show']).includes('"id":');
}

describe('sessions on namespace nodes over SSH (real sshd, real kernel)', () => {
  let nodes: TestNodes | undefined;
  let inventory: Inventory;
  const open: NodeConnection[] = [];
  before(async () => {
    if (!kernelAvailable()) return;
    await ensurePayloadBuilt();
    nodes = await createTestNodes({ clusters: { east: ['east-1'], west: ['west-1'] } });
    inventory = loadInventory(nodes.inventory);
  });
  after(async () => {
    for (const c of open) await c.close().catch(() => undefined);
    nodes?.remove();
  });

  async function connect(name: string): Promise<NodeConnection> {
    const c = await connectNode(name, { inventory, sshConfigFile: nodes!.sshConfig, agentSocket: null });
    open.push(c);
    return c;
  }

  const pingFromCluster = (node: TestNode, count: number): void => {
    nodes!.clusterNetns[node.cluster]!.exec('ping', ['-c', String(count), '-i', '0.2', '-W', '1', node.dataAddress]);
  };

  test('XDP on a node\'s data veth counts real packets, and ring-buffer events stream back decoded', async (t) => {
    if (!requireKernel(t)) return;
    const node = nodes!.node('east-1');
    const agent = await (await connect('east-1')).agent();
    const session = await SessionController.open(agent, { name: 'xdp-events', leaseMs: 5000 });
    const linkIds: (number | undefined)[] = [];
    try {
      await assert.rejects(session.attach({ object: object('xdp-count'), program: 'count_packets', target: { kind: 'xdp', iface: node.mgmtIfname } }), /carries this SSH session/);
      const counter = await session.attach({ object: object('xdp-count'), program: 'count_packets', target: { kind: 'xdp', iface: node.dataIfname } });
      linkIds.push(counter.linkId);
      assert.ok(linksOn(node).some((l) => l.id === counter.linkId), 'the node lists the link');
      await session.detach(counter.id);
      const reporter = await session.attach({ object: object('xdp-events'), program: 'report_packets', target: { kind: 'xdp', iface: node.dataIfname } });
      linkIds.push(reporter.linkId);
      const batches: EventBatch[] = [];
      agent.onNotification(EventsNotification, (b) => batches.push(b));
      await agent.request(EventsSubscribeRequest, { id: session.handle.id, source: { kind: 'ringbuf', map: 'events', btfType: 'packet_event' } });
      pingFromCluster(node, 4);
      assert.ok(await eventually(() => batches.flatMap((b) => b.records).length >= 4, 5000), 'events arrive');
      const first = batches.flatMap((b) => b.records)[0] as { protocol: number; saddr: number; daddr: number };
      assert.equal(first.protocol, 1, 'decoded with the program\'s BTF type: ICMP');
      assert.equal(batches.at(-1)!.droppedTransport, 0);
      assert.ok(reporter.linkId !== undefined);
    } finally {
      await session.close();
    }
    assert.equal(linkIds.length, 2);
    assert.ok(await eventually(() => nothingAttached(node, linkIds), 3000), 'nothing attached after close');
  });

  test('a dropped connection resumes within the lease; the session keeps its attachment', async (t) => {
    if (!requireKernel(t)) return;
    const node = nodes!.node('east-1');
    const first = await connect('east-1');
    const session = await SessionController.open(await first.agent(), { name: 'resume', leaseMs: 10_000 });
    const info = await session.attach({ object: object('xdp-count'), program: 'count_packets', target: { kind: 'xdp', iface: node.dataIfname } });
    await first.close();
    await new Promise((r) => setTimeout(r, 1500));
    const second = await connect('east-1');
    const agent = await second.agent();
    const resumed = await session.resume(agent);
    assert.deepEqual(resumed.attachments.map((a) => a.id), [info.id]);
    // longer than the lease: only heartbeats over the new connection keep the attachment
    await new Promise((r) => setTimeout(r, 11_000));
    assert.ok(linksOn(node).some((l) => l.id === info.linkId), 'still attached: heartbeats flow over the new connection');
    pingFromCluster(node, 2);
    const dump = await agent.request(MapDumpRequest, { id: session.handle.id, map: 'packets_by_proto' });
    assert.ok(dump.entries.some((e) => e.key === 1 && Number(e.value) >= 2));
    await session.close();
    assert.ok(await eventually(() => nothingAttached(node, [info.linkId]), 3000), 'nothing attached after close');
  });

  test('a killed controller: after the lease nothing of ours is attached on the node', async (t) => {
    if (!requireKernel(t)) return;
    const node = nodes!.node('west-1');
    const script = `
      const { connectNode, loadInventory, SessionController } = require(${JSON.stringify(join(__dirname, '..', 'src', 'index.js'))});
      (async () => {
        const c = await connectNode('west-1', { inventory: loadInventory(${JSON.stringify(nodes!.inventory)}), sshConfigFile: ${JSON.stringify(nodes!.sshConfig)}, agentSocket: null });
        const s = await SessionController.open(await c.agent(), { name: 'doomed', leaseMs: 2000 });
        const a = await s.attach({ object: ${JSON.stringify(object('xdp-count'))}, program: 'count_packets', target: { kind: 'xdp', iface: ${JSON.stringify(node.dataIfname)} } });
        console.log('attached ' + a.linkId);
      })();`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const linkId = await new Promise<number>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (s: string) => {
        const m = /attached (\d+)/.exec(s);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', () => reject(new Error('the controller exited before attaching')));
    });
    assert.ok(linksOn(node).some((l) => l.id === linkId));
    child.kill('SIGKILL');
    assert.ok(await eventually(() => !linksOn(node).some((l) => l.id === linkId), 8000), 'rolled back after the lease');
  });

  test('a partition (management link cut): the node never hears the controller go, and rolls back after the lease', async (t) => {
    if (!requireKernel(t)) return;
    const node = nodes!.node('west-1');
    const c = await connect('west-1');
    const session = await SessionController.open(await c.agent(), { name: 'partitioned', leaseMs: 2000 });
    const info = await session.attach({ object: object('xdp-count'), program: 'count_packets', target: { kind: 'xdp', iface: node.dataIfname } });
    node.cutManagement();
    try {
      assert.ok(await eventually(() => !linksOn(node).some((l) => l.id === info.linkId), 8000), 'rolled back after the lease');
      assert.equal(node.exec('bpftool', ['-j', 'net', 'show']).includes('"id":'), false, 'no XDP/tc program on any interface of the node');
      assert.deepEqual(node.exec('bpftool', ['cgroup', 'tree']).split('\n').filter((l) => l.includes('count_packets')), [], 'no cgroup attachment of ours');
    } finally {
      session.abandon();
      node.restoreManagement();
    }
    let reconnected: NodeConnection | undefined;
    for (let attempt = 0; !reconnected && attempt < 20; attempt++) {
      reconnected = await connect('west-1').catch(async () => {
        await new Promise((r) => setTimeout(r, 250));
        return undefined;
      });
    }
    const again = await reconnected!.agent();
    assert.deepEqual((await again.request(SessionListRequest)).filter((s) => s.id === session.handle.id), []);
  });
});
