import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { checkPolicy, defaultTemplatesDir, listTemplates, parsePolicy, parseSocketAddress, PolicyError, type ServicePolicy } from '../src/policy';
import { serviceIdOf } from '../src/policy/service-id';

const CLUSTERS = `version: 1
localCluster: east
clusters:
  east: { id: 1, nodes: [] }
  west: { id: 2, gateway: 127.0.0.1:18443, nodes: [] }
`;

/** One bad file per row: the problem must be reported at exactly this line:column, saying this. */
const BAD: { name: string; text: string; at: string; says: RegExp }[] = [
  {
    name: 'probe failures below one',
    text: `${CLUSTERS}services:
  - name: orders
    vip: 127.100.0.20:80
    policy: { type: Locality }
    probe: { tcp: true, failures: 0 }
`,
    at: '10:35',
    says: /orders\.probe\.failures must be a whole number of probes, 1 or more/,
  },
  {
    name: 'probe failures not a number',
    text: `${CLUSTERS}services:
  - name: orders
    vip: 127.100.0.20:80
    policy: { type: Locality }
    probe: { failures: two }
`,
    at: '10:24',
    says: /probe\.failures must be a whole number/,
  },
  {
    name: 'unknown cluster in weights',
    text: `${CLUSTERS}services:
  - name: orders
    vip: 127.100.0.20:80
    policy: { type: ActiveActive, weights: { east: 80, south: 20 } }
`,
    at: '9:56',
    says: /unknown cluster "south" \(clusters: east, west\)/,
  },
  {
    name: 'unknown cluster in endpoints',
    text: `${CLUSTERS}services:
  - name: orders
    vip: 127.100.0.20:80
    policy: { type: Locality }
    endpoints:
      east: [127.0.0.1:18080]
      nort: [127.0.0.1:18081]
`,
    at: '12:7',
    says: /unknown cluster "nort"/,
  },
  {
    name: 'non-numeric weight',
    text: `${CLUSTERS}services:
  - name: orders
    vip: 127.100.0.20:80
    policy:
      type: ActiveActive
      weights: { east: eighty, west: 20 }
`,
    at: '11:24',
    says: /weight "eighty" is not a number/,
  },
  {
    name: 'negative weight',
    text: `${CLUSTERS}services:
  - name: orders
    vip: 127.100.0.20:80
    policy: { type: ActiveActive, weights: { east: 80, west: -5 } }
`,
    at: '9:62',
    says: /weight -5 is negative/,
  },
  {
    name: 'VIP without a port',
    text: `${CLUSTERS}services:
  - name: orders
    vip: 127.100.0.20
    policy: { type: Locality }
`,
    at: '8:10',
    says: /orders\.vip: "127\.100\.0\.20" is not an address:port/,
  },
  {
    name: 'VIP that is a name',
    text: `${CLUSTERS}services:
  - { name: orders, vip: "orders.svc:80", policy: { type: Locality } }
`,
    at: '7:26',
    says: /"orders\.svc" in "orders\.svc:80" is not an IPv4 address/,
  },
  {
    name: 'duplicate endpoints (across clusters, spelled differently)',
    text: `${CLUSTERS}services:
  - name: orders
    vip: "[fd00::20]:80"
    policy: { type: FailOver, order: [east, west] }
    endpoints:
      east: ["[fd00::1]:8080"]
      west: ["[FD00:0::1]:8080"]
`,
    at: '12:14',
    says: /duplicate endpoint \[fd00::1\]:8080 \(first at line 11:14\)/,
  },
  {
    name: 'FailOver without order',
    text: `${CLUSTERS}services:
  - name: orders
    vip: 127.100.0.20:80
    policy: { type: FailOver }
`,
    at: '9:21',
    says: /FailOver without order: add "order: \[east, west\]"/,
  },
  {
    name: 'unknown template',
    text: `version: 1
programs:
  - name: lb
    template: clusterset-socket-balancer
    attach: { cgroup: test }
`,
    at: '4:15',
    says: /unknown template "clusterset-socket-balancer" \(templates: .*clusterset-socket-lb/,
  },
  {
    name: 'unknown program of a template',
    text: `version: 1
programs:
  - { name: lb, template: clusterset-socket-lb, attach: { cgroup: test }, load: [lb_connect4, lb_connect5] }
`,
    at: '3:95',
    says: /unknown program "lb_connect5" in template clusterset-socket-lb/,
  },
  {
    name: 'unknown setting',
    text: `version: 1
programs:
  - { name: lb, template: clusterset-socket-lb, attach: { cgroup: test }, settings: { reject: 1 } }
`,
    at: '3:87',
    says: /the template has no parameter "reject" \(parameters: reject_no_backend, emit_events\)/,
  },
  {
    name: 'a cgroup template without attach',
    text: `version: 1
programs:
  - { name: lb, template: same-node-sockredir }
`,
    at: '3:5',
    says: /attaches to a cgroup: add "attach: \{ cgroup:/,
  },
  {
    name: 'unknown localCluster',
    text: `version: 1
localCluster: eats
clusters: { east: { id: 1, nodes: [] } }
`,
    at: '2:15',
    says: /localCluster: unknown cluster "eats"/,
  },
  {
    name: 'Locality without localCluster',
    text: `version: 1
clusters: { east: { id: 1, nodes: [] } }
services:
  - { name: orders, vip: 127.100.0.20:80, policy: { type: Locality } }
`,
    at: '4:59',
    says: /Locality keeps traffic in the local cluster, but the file has no localCluster/,
  },
  {
    name: 'an unsupported version',
    text: `version: 2
`,
    at: '1:10',
    says: /version 2 is not one this ebpf-studio reads/,
  },
  {
    name: 'a cluster without an id',
    text: `version: 1
clusters:
  east: { nodes: [] }
services: []
`,
    at: '3:3',
    says: /clusters\.east has no id/,
  },
  {
    name: 'an endpoint of the other family',
    text: `${CLUSTERS}services:
  - { name: orders, vip: 127.100.0.20:80, policy: { type: Locality }, endpoints: { east: ["[::1]:80"] } }
`,
    at: '7:91',
    says: /\[::1\]:80 is IPv6 but the VIP 127\.100\.0\.20:80 is IPv4/,
  },
  {
    name: 'a gateway of the other family',
    text: `${CLUSTERS}services:
  - { name: orders, vip: "[fd00::20]:80", policy: { type: FailOver, order: [east, west] }, endpoints: { east: ["[::1]:80"] } }
`,
    at: '7:26',
    says: /cluster west is reached through its gateway 127\.0\.0\.1:18443 \(IPv4\), but the VIP \[fd00::20\]:80 is IPv6/,
  },
  {
    name: 'an unknown policy type',
    text: `${CLUSTERS}services:
  - { name: orders, vip: 127.100.0.20:80, policy: { type: RoundRobin } }
`,
    at: '7:59',
    says: /policy\.type "RoundRobin" is not a policy type: use Locality, FailOver, ActiveActive/,
  },
  {
    name: 'a duplicate key (YAML)',
    text: `version: 1
version: 1
`,
    at: '2:1',
    says: /Map keys must be unique/,
  },
  {
    name: 'two services on one VIP',
    text: `${CLUSTERS}services:
  - { name: a, vip: 127.100.0.20:80, policy: { type: Locality } }
  - { name: b, vip: 127.100.0.20:80, policy: { type: Locality } }
`,
    at: '8:5',
    says: /services a and b both use tcp VIP 127\.100\.0\.20:80/,
  },
];

function problemsOf(text: string): string[] {
  try {
    parsePolicy(text, 'ebpf-studio.yaml');
  } catch (err) {
    assert.ok(err instanceof PolicyError, String(err));
    return err.message.split('\n');
  }
  assert.fail('expected a PolicyError');
}

describe('policy file: positioned errors', () => {
  for (const bad of BAD) {
    test(bad.name, () => {
      const problems = problemsOf(bad.text);
      const hit = problems.find((p) => bad.says.test(p));
      assert.ok(hit, `no problem says ${bad.says}; got:\n${problems.join('\n')}`);
      assert.ok(hit.startsWith(`ebpf-studio.yaml:${bad.at}: `), `expected at ${bad.at}: ${hit}`);
    });
  }

  test('every problem of a file is reported at once, each with its own position', () => {
    const problems = problemsOf(`${CLUSTERS}services:
  - { name: a, vip: 127.100.0.20, policy: { type: Locality } }
  - { name: b, vip: 127.100.0.21:80, policy: { type: FailOver } }
  - { name: c, vip: 127.100.0.22:80, policy: { type: ActiveActive, weights: { east: x } } }
`);
    assert.deepEqual(problems.map((p) => p.split(': ')[0]), ['ebpf-studio.yaml:7:21', 'ebpf-studio.yaml:8:54', 'ebpf-studio.yaml:9:85']);
  });

  test('warnings: unknown keys and clusters that can take no traffic, positioned', () => {
    const result = checkPolicy(`${CLUSTERS}services:
  - name: orders
    vip: 127.100.0.20:80
    policy: { type: FailOver, order: [east, west] }
    endpoints: { east: [127.0.0.1:1] }
    weight: 3
`);
    assert.deepEqual(result.problems, []);
    assert.deepEqual(result.warnings.map((w) => `${w.line}:${w.col} ${w.message}`), ['11:5 services[0]: unknown key "weight" (known: name, id, vip, protocol, policy, endpoints, probe); ignored']);
    const noTraffic = checkPolicy(`${CLUSTERS}services:
  - { name: orders, vip: 127.100.0.20:80, policy: { type: Locality }, endpoints: { west: [127.0.0.1:1] } }
`);
    assert.deepEqual(noTraffic.warnings.map((w) => w.message), [
      'service orders: cluster east has no endpoints and no gateway, so it can take no traffic',
      'service orders: the endpoints of cluster west get no traffic under Locality',
    ]);
  });

  test('an inventory-only file (no services) needs no cluster ids', () => {
    const policy = parsePolicy('clusters:\n  east: { nodes: [ { name: e1, ssh: e1 } ] }\n');
    assert.equal(policy.clusters.get('east')?.id, 0);
    assert.deepEqual(policy.warnings, []);
  });
});

describe('policy file: what a good file reads as', () => {
  test('the issue\'s sketch, versioned, reads with every field', () => {
    const policy = parsePolicy(`${CLUSTERS}services:
  - name: orders
    vip: 127.100.0.20:80
    protocol: tcp
    policy: { type: ActiveActive, weights: { east: 80, west: 20 } }
    endpoints: { east: [127.0.0.1:18080, 127.0.0.1:18081], west: [127.0.0.1:18082] }
    probe: { tcp: true, interval: 2s, timeout: 500ms }
  - { name: dns, id: 53, vip: "[fd00::53]:53", protocol: udp, policy: { type: FailOver, order: [east] }, endpoints: { east: ["[::1]:5353"] } }
programs:
  - { name: lb, template: clusterset-socket-lb, attach: { cgroup: orders }, settings: { emit_events: true } }
`);
    assert.equal(policy.localCluster, 'east');
    assert.equal(policy.clusters.get('west')?.gateway?.text, '127.0.0.1:18443');
    const [orders, dns] = policy.services;
    assert.equal(orders!.id, serviceIdOf('orders'));
    assert.deepEqual([...(orders!.policy as Extract<ServicePolicy, { type: 'ActiveActive' }>).weights], [['east', 80], ['west', 20]]);
    assert.deepEqual(orders!.endpoints.get('east')!.map((e) => e.text), ['127.0.0.1:18080', '127.0.0.1:18081']);
    assert.deepEqual(orders!.probe, { tcp: true, intervalMs: 2000, timeoutMs: 500, failures: 2 }, 'two unanswered probes in a row by default');
    assert.equal(dns!.id, 53);
    assert.equal(dns!.vip.family, 6);
    assert.deepEqual(policy.programs[0], { name: 'lb', template: 'clusterset-socket-lb', attach: { cgroup: 'orders' }, settings: { emit_events: true }, at: { line: 15, col: 5 } });
  });

  test('the example of docs/policy.md reads without problems or warnings', () => {
    const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'policy.md'), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(doc)![1]!;
    const result = checkPolicy(example);
    assert.deepEqual([...result.problems, ...result.warnings], []);
    assert.equal(result.policy!.services.length, 3);
  });

  test('the default template folder is the repository\'s bpf-templates', () => {
    assert.ok(listTemplates(defaultTemplatesDir()).templates.some((t) => t.name === 'clusterset-socket-lb'));
  });

  test('service ids derived from names are stable and never 0', () => {
    assert.equal(serviceIdOf('orders'), serviceIdOf('orders'));
    assert.notEqual(serviceIdOf('orders'), serviceIdOf('payments'));
    assert.equal(serviceIdOf(''), 0x811c9dc5);
  });
});

describe('socket addresses', () => {
  test('IPv4 and bracketed IPv6, canonical text and map bytes', () => {
    const v4 = parseSocketAddress('127.100.0.20:80');
    assert.ok(typeof v4 !== 'string');
    assert.equal(v4.text, '127.100.0.20:80');
    assert.deepEqual([...v4.bytes], [127, 100, 0, 20, ...new Array(12).fill(0)]);
    const v6 = parseSocketAddress('[FD00:0:0::EB5:20]:8080');
    assert.ok(typeof v6 !== 'string');
    assert.equal(v6.text, '[fd00::eb5:20]:8080');
    assert.equal(Buffer.from(v6.bytes).toString('hex'), 'fd00000000000000000000000eb50020');
    const mapped = parseSocketAddress('[::ffff:10.0.0.1]:1');
    assert.ok(typeof mapped !== 'string');
    assert.equal(Buffer.from(mapped.bytes).toString('hex'), '00000000000000000000ffff0a000001');
    assert.equal(mapped.text, '[::ffff:a00:1]:1');
  });

  test('what is not an address:port says why', () => {
    assert.match(parseSocketAddress('127.0.0.1') as string, /is not an address:port/);
    assert.match(parseSocketAddress('127.0.0.1:0') as string, /outside 1-65535/);
    assert.match(parseSocketAddress('::1:80') as string, /is not an address:port/);
    assert.match(parseSocketAddress('[127.0.0.1]:80') as string, /is not an IPv6 address/);
    assert.match(parseSocketAddress('300.1.1.1:80') as string, /is not an IPv4 address/);
  });
});
