import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { mapKeys } from '@ebpf-studio/libbpf-ts';
import { eventually, freeLoopbackPort, requireKernel } from '@ebpf-studio/test-support';
import { attachTemplate, counterTotals, firstJsonLine, fixture, jsonLines, type AttachedTemplate } from './template-socket-harness';

/**
 * mesh-intercept with real sockets: an upstream server outside the cgroup, a proxy in a child cgroup
 * (exempt by its cgroup id), clients in the test cgroup. Every address is in 127.0.0.0/8.
 */

const NAME = 'mesh-intercept';
const MESH = fixture(NAME, 'mesh.js');
const MARK = 0x5eed;

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

describe('mesh-intercept: real sockets in a test cgroup', () => {
  test('the proxy receives the connection, SO_ORIGINAL_DST answers the original address, the proxy and marked sockets are exempt', async (t: TestContext) => {
    if (!requireKernel(t)) return;
    const upstream = createServer((s) => s.end('upstream'));
    const upstreamPort = await listen(upstream);
    const proxyPort = await freeLoopbackPort();
    let proxyCgroup = '';
    let attached: AttachedTemplate | undefined;
    try {
      attached = attachTemplate(NAME, {
        settings: (cgroup) => {
          proxyCgroup = join(cgroup.path, 'proxy');
          mkdirSync(proxyCgroup);
          return { proxy_ip4: '127.0.0.1', proxy_port: proxyPort, proxy_cgroup_id: Number(statSync(proxyCgroup, { bigint: true }).ino), proxy_mark: MARK };
        },
      });
      // The proxy joins the child cgroup before exec, like TestCgroup.spawn does for the test cgroup.
      const proxy = spawn('/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', join(proxyCgroup, 'cgroup.procs'), 'node', MESH, 'proxy', String(proxyPort)]);
      const proxyLog = jsonLines(proxy);
      assert.deepEqual(await proxyLog(), { listening: proxyPort });
      const connect = (host: string, port: number, mark?: number): Promise<{ reply: string }> =>
        firstJsonLine(attached!.cgroup.spawn('node', [MESH, 'connect', host, String(port), ...(mark ? [String(mark)] : [])]));

      const direct = `127.0.0.1:${upstreamPort}`;
      assert.deepEqual(await connect('127.0.0.1', upstreamPort), { reply: `proxy(${direct})|upstream` }, 'intercepted, and the proxy reached upstream itself (exempt by cgroup)');
      const first = await proxyLog<{ orig: string; peerPort: number }>();
      assert.equal(first.orig, direct, 'SO_ORIGINAL_DST is the address the client connected to');

      assert.deepEqual(await connect('127.77.0.9', 9), { reply: 'proxy(127.77.0.9:9)|ECONNREFUSED' });
      assert.equal((await proxyLog<{ orig: string }>()).orig, '127.77.0.9:9');

      assert.deepEqual(await connect('127.0.0.1', upstreamPort, MARK), { reply: 'upstream' }, 'a socket with the proxy mark goes straight to its destination');

      const stats = counterTotals(attached, 'mi_stats');
      t.diagnostic(`mi_stats: ${JSON.stringify(stats)}`);
      assert.deepEqual(stats, { redirected: 2, exempt: 3, learned: 2, answered: 2 });
      const clients = (): number => mapKeys(attached!.object.map('mi_client_dst').fd).keys.length;
      assert.ok(await eventually(() => clients() === 0, 10_000), `closed clients leave mi_client_dst (left: ${clients()})`);
      assert.equal(mapKeys(attached.object.map('mi_cookie_dst').fd).keys.length, 0, 'no pending connects are left');
      proxy.kill();
    } finally {
      attached?.close();
      upstream.close();
    }
  });
});
