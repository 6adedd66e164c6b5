#!/usr/bin/env node
// connect() through clusterset-socket-lb vs a direct connect and vs an iptables DNAT of the same kind of
// VIP (kube-proxy's mechanism), interleaved, all inside a test network namespace (issue 6).
// Goals: ≤ 1.1× direct, ≤ 0.5× DNAT. The LB client runs in the template's test cgroup; the others outside it.
'use strict';
const { join } = require('node:path');
const { createNetns } = require('../test-support/dist/src/index.js');
const { attachTemplate } = require('../server/dist/test/template-socket-harness.js');
const { compilePolicy, parsePolicy } = require('../server/dist/src/index.js');
const { mapUpdate } = require('../libbpf-ts/dist/src/index.js');

const CLIENT = join(__dirname, 'data', 'connect-client.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTS = Number(process.env.BENCH_CONNECTS ?? 2000);
const PORT = 18000 + (process.pid % 1000);
const SERVICES = Number(process.env.BENCH_SERVICES ?? 5000);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function measure(child) {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s) => (out += s));
    child.once('exit', () => {
      try {
        const r = JSON.parse(out.trim().split('\n').pop());
        if (r.error) reject(new Error(r.error));
        else resolve(r.usPerConnect);
      } catch (err) {
        reject(err);
      }
    });
  });
}

async function main() {
  const netns = createNetns('bconn');
  let lb;
  try {
    const server = netns.spawn('node', ['-e', `require('node:net').createServer((s) => s.destroy()).listen(${PORT}, '127.0.0.1', () => console.log('up'))`]);
    await new Promise((resolve) => server.stdout.once('data', resolve));
    netns.exec('iptables', ['-t', 'nat', '-A', 'OUTPUT', '-d', '127.200.0.1', '-p', 'tcp', '--dport', '80', '-j', 'DNAT', '--to-destination', `127.0.0.1:${PORT}`]);
    lb = attachTemplate('clusterset-socket-lb');
    const policy = parsePolicy(
      ['version: 1', 'localCluster: east', 'clusters: { east: { id: 1, nodes: [] } }', 'services:', `  - { name: bench, vip: "127.100.0.1:80", policy: { type: Locality }, endpoints: { east: ["127.0.0.1:${PORT}"] } }`].join('\n'),
    );
    for (const m of compilePolicy(policy).maps) for (const e of m.entries) mapUpdate(lb.object.map(m.map).fd, e.key, e.value);
    const results = { direct: [], lb: [], dnat: [], dnatScale: [] };
    for (let round = 0; round < ROUNDS; round++) {
      results.direct.push(await measure(netns.spawn('node', [CLIENT, '127.0.0.1', String(PORT), String(CONNECTS)])));
      results.lb.push(await measure(lb.cgroup.spawn('nsenter', [`--net=${netns.path}`, 'node', CLIENT, '127.100.0.1', '80', String(CONNECTS)])));
      results.dnat.push(await measure(netns.spawn('node', [CLIENT, '127.200.0.1', '80', String(CONNECTS)])));
    }
    // kube-proxy at scale: the service's rule after SERVICES other services' rules (matched in order).
    const rules = ['*nat', ':OUTPUT ACCEPT [0:0]'];
    for (let i = 0; i < SERVICES; i++) rules.push(`-A OUTPUT -d 127.201.${i >> 8}.${i & 255}/32 -p tcp --dport 80 -j DNAT --to-destination 127.0.0.1:${PORT}`);
    rules.push(`-A OUTPUT -d 127.200.0.1/32 -p tcp --dport 80 -j DNAT --to-destination 127.0.0.1:${PORT}`, 'COMMIT', '');
    netns.exec('iptables-restore', [], { input: rules.join('\n') });
    for (let round = 0; round < ROUNDS; round++) {
      results.dnatScale.push(await measure(netns.spawn('node', [CLIENT, '127.200.0.1', '80', String(CONNECTS)])));
    }
    const [d, l, n] = [median(results.direct), median(results.lb), median(results.dnat)];
    console.log(`connect()+close: direct ${d.toFixed(1)} µs, through clusterset-socket-lb ${l.toFixed(1)} µs, through iptables DNAT ${n.toFixed(1)} µs (median of ${ROUNDS} rounds × ${CONNECTS})`);
    const ns = median(results.dnatScale);
    console.log(`  LB / direct ${(l / d).toFixed(2)} (goal ≤ 1.1), LB / DNAT ${(l / n).toFixed(2)} (goal ≤ 0.5)`);
    console.log(`  with ${SERVICES} other services' DNAT rules ahead (kube-proxy iptables mode at scale): DNAT ${ns.toFixed(1)} µs, LB / DNAT ${(l / ns).toFixed(2)}`);
  } finally {
    lb?.close();
    netns.remove();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
