import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { listTemplates } from '@ebpf-studio/server';
import { SessionListRequest, startLocalAgent } from '@ebpf-studio/remote-agent';
import { assertShares, requireKernel, tempDir } from '@ebpf-studio/test-support';
import { findCgroup2Mount, removeCgroups } from '../src/cgroups';

/**
 * `ebpf-studio new / run / apply / health / status` as a user runs them: the real binary, the real kernel,
 * real sockets. The clusterset-socket-lb project's endpoints are the template's fixture backends on
 * 127.0.0.1, its clients the fixture client inside the cgroup `run` creates (a per-run name below the
 * detected cgroup2 mount); everything is removed at the end, also when a test fails.
 */

const ROOT = join(__dirname, '..', '..', '..');
const BIN = join(ROOT, 'cli', 'bin', 'ebpf-studio.js');
const FIXTURES = join(ROOT, 'bpf-templates', 'clusterset-socket-lb', 'fixtures');
const CLIENT = join(FIXTURES, 'client.js');
const BACKENDS = join(FIXTURES, 'backends.js');
const VIP = { host: '127.100.0.20', port: 8080 };
const MOUNT = findCgroup2Mount(readFileSync('/proc/mounts', 'utf8'));
let cgroupCounter = 0;

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Result {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

type Names = Record<string, number>;
const ENDPOINT_NAMES = ['east-a', 'east-b', 'west-a'];
const counts = (names: Names): number[] => ENDPOINT_NAMES.map((n) => names[n] ?? 0);

/** A fresh cgroup name for one run, directly below the mount (so cleanup never touches a shared parent). */
function cgroupName(): string {
  return `ebst-cli-${process.pid}-${++cgroupCounter}`;
}

function policy(ports: Record<string, { tcp: number }>, cgroup: string, weights: { east: number; west: number }): string {
  const ep = (n: string): string => `127.0.0.1:${ports[n]!.tcp}`;
  return [
    'version: 1',
    'localCluster: east',
    'clusters:',
    '  east: { id: 1, nodes: [] }',
    '  west: { id: 2, nodes: [] }',
    'services:',
    '  - name: orders',
    `    vip: ${VIP.host}:${VIP.port}`,
    `    policy: { type: ActiveActive, weights: { east: ${weights.east}, west: ${weights.west} } }`,
    `    endpoints: { east: [${ep('east-a')}, ${ep('east-b')}], west: [${ep('west-a')}] }`,
    'programs:',
    `  - { name: lb, template: clusterset-socket-lb, attach: { cgroup: ${cgroup} } }`,
    '',
  ].join('\n');
}

/** A process's stdout as lines, with a wait for the next line that matches. */
function lines(child: ChildProcess): { next(match: RegExp, timeoutMs?: number): Promise<string>; all(): string } {
  let out = '';
  let consumed = 0;
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (out += s));
  return {
    all: () => out,
    async next(match, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const rest = out.slice(consumed);
        const found = rest.split('\n').find((l, i, all) => i < all.length - 1 && match.test(l));
        if (found !== undefined) {
          consumed += rest.indexOf(found) + found.length;
          return found;
        }
        if (child.exitCode !== null) throw new Error(`exited (${child.exitCode}) before printing ${match}:\n${out}`);
        if (Date.now() > deadline) throw new Error(`nothing matching ${match} within ${timeoutMs} ms:\n${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', resolve));
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited(child);
  clearTimeout(timer);
}

async function startBackends(): Promise<{ child: ChildProcess; ports: Record<string, { tcp: number }> }> {
  const child = spawn(process.execPath, [BACKENDS, '127.0.0.1', ...ENDPOINT_NAMES], { stdio: ['pipe', 'pipe', 'pipe'] });
  const ports = JSON.parse(await lines(child).next(/^\{/)) as Record<string, { tcp: number }>;
  return { child, ports };
}

/** The sessions on this machine (a closed one ends a moment after its close is answered: wait for that). */
async function sessionIds(): Promise<string[]> {
  const agent = startLocalAgent();
  try {
    await new Promise((r) => setTimeout(r, 500));
    return (await agent.request(SessionListRequest)).map((s) => s.id);
  } finally {
    agent.dispose();
  }
}

let work: string | undefined;
let projects = 0;

function scaffoldProject(template = 'clusterset-socket-lb'): string {
  work ??= tempDir('ebpf-studio-cli-');
  const dir = join(work, `project-${++projects}`);
  const r = cli(['new', template, dir]);
  assert.equal(r.status, 0, r.stderr);
  return dir;
}

/**
 * `run DIR --exec -- node driver.js`, driven through run's stdin (which the command inherits): each line "N"
 * makes N connects to the VIP with the fixture client, whose JSON line `drive` returns.
 */
async function startDriven(dir: string): Promise<{ run: ChildProcess; out: ReturnType<typeof lines>; drive(n: number): Promise<Names> }> {
  const driver = join(dir, 'driver.js');
  writeFileSync(
    driver,
    [
      "const { spawn } = require('node:child_process');",
      "console.log('driver ready');",
      "require('node:readline').createInterface({ input: process.stdin }).on('line', (n) => {",
      `  spawn(process.execPath, [${JSON.stringify(CLIENT)}, 'tcp', '${VIP.host}', '${VIP.port}', n], { stdio: ['ignore', 'inherit', 'inherit'] });`,
      '});',
    ].join('\n'),
  );
  const run = spawn(process.execPath, [BIN, 'run', dir, '--lease', '3s', '--exec', '--', process.execPath, driver], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = lines(run);
  await out.next(/^driver ready$/);
  const drive = async (n: number): Promise<Names> => {
    run.stdin!.write(`${n}\n`);
    const result = JSON.parse(await out.next(/^\{"names"/)) as { names: Names; errors: Names };
    assert.deepEqual(result.errors, {});
    return result.names;
  };
  return { run, out, drive };
}

test('new --list prints every template, one a line: name, then summary', () => {
  const r = cli(['new', '--list']);
  assert.equal(r.status, 0, r.stderr);
  const templates = listTemplates().templates;
  assert.equal(templates.length, 6);
  const printed = r.stdout.trimEnd().split('\n');
  assert.deepEqual(printed.map((l) => l.split(/\s+/)[0]), templates.map((t) => t.name));
  for (const t of templates) assert.ok(printed.some((l) => l.startsWith(t.name) && l.endsWith(t.summary)), `${t.name}: its summary`);
});

test('new scaffolds projects whose programs verify, with compile_commands.json and .clangd for clangd', { timeout: 120_000 }, (t) => {
  if (!requireKernel(t)) return;
  for (const template of listTemplates().templates) {
    const dir = scaffoldProject(template.name);
    const file = join(dir, template.source);
    const r = cli(['verify', file, '--json']);
    const report = JSON.parse(r.stdout) as { ok: boolean; programs: { verdict: string }[]; diagnostics: { severity: string }[] };
    assert.equal(r.status, 0, `${template.name}: ${r.stdout}${r.stderr}`);
    assert.ok(report.ok && report.programs.length > 0 && report.programs.every((p) => p.verdict === 'accepted'), template.name);
    assert.deepEqual(report.diagnostics.filter((d) => d.severity === 'error'), [], template.name);
    const commands = JSON.parse(readFileSync(join(dir, 'compile_commands.json'), 'utf8')) as { directory: string; file: string; arguments: string[] }[];
    assert.equal(commands[0]!.file, file);
    assert.equal(commands[0]!.directory, dir);
    assert.ok(commands[0]!.arguments.join(' ').includes('-target bpf'), 'clang targets bpf');
    assert.match(readFileSync(join(dir, '.clangd'), 'utf8'), /Add: \[-target, bpf/);
    for (const header of template.commonHeaders) assert.ok(existsSync(join(dir, header)), `${template.name}: ${header} beside the program`);
    if (template.programs.some((p) => p.attach === 'cgroup')) {
      assert.match(readFileSync(join(dir, 'ebpf-studio.yaml'), 'utf8'), /cgroup: ebpf-studio\/project\b/, 'the sample attaches to the project\'s own cgroup');
    }
    assert.match(readFileSync(join(dir, 'README.md'), 'utf8'), /## This project/);
  }
});

test('new refuses a directory that is not empty, unless --force', () => {
  const dir = scaffoldProject();
  writeFileSync(join(dir, 'ebpf-studio.yaml'), '# mine\n');
  const refused = cli(['new', 'clusterset-socket-lb', dir]);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /is not empty: .*--force/);
  assert.equal(readFileSync(join(dir, 'ebpf-studio.yaml'), 'utf8'), '# mine\n', 'nothing was overwritten');
  assert.equal(cli(['new', 'clusterset-socket-lb', dir, '--force']).status, 0);
  assert.match(readFileSync(join(dir, 'ebpf-studio.yaml'), 'utf8'), /clusterset-socket-lb/);
  assert.equal(cli(['new', 'no-such-template', join(dir, 'x')]).status, 2);
});

test('run --exec: a client in the cgroup sees the policy\'s split; run cleans up after the command', { timeout: 120_000 }, async (t) => {
  if (!requireKernel(t)) return;
  const dir = scaffoldProject();
  const cgroup = cgroupName();
  const backends = await startBackends();
  try {
    writeFileSync(join(dir, 'ebpf-studio.yaml'), policy(backends.ports, cgroup, { east: 80, west: 20 }));
    const r = cli(['run', dir, '--lease', '3s', '--exec', '--', process.execPath, CLIENT, 'tcp', VIP.host, String(VIP.port), '4000']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const result = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{"names"'))!) as { names: Names; errors: Names; peers: string[] };
    assert.deepEqual(result.errors, {});
    assert.deepEqual(result.peers, [`${VIP.host}|${VIP.port}`], 'getpeername says the VIP');
    t.diagnostic(`run --exec, 80/20: ${JSON.stringify(result.names)}, ${assertShares('80/20 over two east endpoints and one west', counts(result.names), [0.4, 0.4, 0.2])}`);
    assert.match(r.stdout, /attached lb_connect4 \(prog id \d+\) to cgroup /);
    assert.match(r.stdout, /^ {2}east +(\d+) +0 /m, 'the kernel counted per cluster');
    assert.match(r.stdout, /session closed/);
    assert.ok(!existsSync(join(MOUNT!, cgroup)), 'the cgroup run created is gone');
    assert.ok(!existsSync(join(dir, '.ebpf-studio', 'run.json')), 'the run state is gone');
    const session = /running: session ([0-9a-f]+)/.exec(r.stdout)![1]!;
    assert.ok(!(await sessionIds()).includes(session), 'the session is closed');
  } finally {
    backends.child.kill();
    await removeCgroups([join(MOUNT!, cgroup)]);
  }
});

test('while run runs: status --json counts, apply changes the split with the same programs, health down fails over', { timeout: 180_000 }, async (t) => {
  if (!requireKernel(t)) return;
  const dir = scaffoldProject();
  const cgroup = cgroupName();
  const backends = await startBackends();
  let run: ChildProcess | undefined;
  try {
    writeFileSync(join(dir, 'ebpf-studio.yaml'), policy(backends.ports, cgroup, { east: 80, west: 20 }));
    const driven = await startDriven(dir);
    run = driven.run;
    const { out, drive } = driven;

    const first = await drive(3000);
    t.diagnostic(`80/20: ${JSON.stringify(first)}, ${assertShares('80/20', counts(first), [0.4, 0.4, 0.2])}`);

    const status = cli(['status', dir, '--json']);
    assert.equal(status.status, 0, status.stderr);
    const report = JSON.parse(status.stdout) as { programs: { program: string; progId: number }[]; services: { service: string; total: number; clusters: { cluster: string; connects: number; expectedShare: number }[] }[] };
    const orders = report.services.find((s) => s.service === 'orders')!;
    const connects = (c: string): number => orders.clusters.find((x) => x.cluster === c)!.connects;
    assert.equal(connects('east'), first['east-a']! + first['east-b']!, 'lb_stats counts what the client saw for east');
    assert.equal(connects('west'), first['west-a']!);
    assert.equal(orders.total, 3000);
    assert.equal(orders.clusters.find((x) => x.cluster === 'east')!.expectedShare, 0.8);
    assert.equal(report.programs.length, 8);
    assert.match(cli(['status', dir]).stdout, /east +\d+ +0 +\d+\.\d% +80\.0%/);

    writeFileSync(join(dir, 'ebpf-studio.yaml'), policy(backends.ports, cgroup, { east: 50, west: 50 }));
    const applied = cli(['apply', dir]);
    assert.equal(applied.status, 0, applied.stdout + applied.stderr);
    const ids = [...applied.stdout.matchAll(/(\w+): prog id (\d+) before, (\d+) after/g)];
    assert.equal(ids.length, 8, applied.stdout);
    for (const [, program, before, after] of ids) assert.equal(before, after, `${program} was not reloaded`);
    assert.deepEqual(ids.map((m) => [m[1], Number(m[2])]).sort(), report.programs.map((p) => [p.program, p.progId]).sort(), 'the ids status saw before apply');
    const second = await drive(3000);
    t.diagnostic(`50/50 after apply: ${JSON.stringify(second)}, ${assertShares('50/50 after apply', counts(second), [0.25, 0.25, 0.5])}`);

    writeFileSync(join(dir, 'ebpf-studio.yaml'), policy(backends.ports, cgroup, { east: 50, west: 50 }).replace('west: 50 }', 'west: -5, south: 1 }'));
    const broken = cli(['apply', dir]);
    assert.equal(broken.status, 2);
    assert.match(broken.stderr, /ebpf-studio\.yaml:9:\d+: error: .*west.*(negative|whole|0)/i);
    assert.match(broken.stderr, /ebpf-studio\.yaml:9:\d+: error: .*unknown cluster "south"/);

    const down = cli(['health', dir, 'orders', 'east', 'down']);
    assert.equal(down.status, 0, down.stdout + down.stderr);
    assert.match(down.stdout, /new connections go to east 0\.0% · west 100\.0%/);
    const third = await drive(1000);
    assert.deepEqual(third, { 'west-a': 1000 }, 'east is down: everything goes to west');
    assert.equal(cli(['health', dir, 'orders', 'nowhere', 'down']).status, 2);

    run.stdin!.end();
    assert.equal(await exited(run), 0, out.all());
    assert.match(out.all(), /session closed/);
    assert.ok(!existsSync(join(MOUNT!, cgroup)), 'the cgroup run created is gone');
    assert.equal(cli(['status', dir]).status, 2, 'no run any more');
  } finally {
    await stop(run);
    backends.child.kill();
    await removeCgroups([join(MOUNT!, cgroup)]);
  }
});

test('run: a bad policy file gives positioned errors and exit 2, before anything is created', (t) => {
  if (!requireKernel(t)) return;
  const dir = scaffoldProject();
  const cgroup = cgroupName();
  writeFileSync(
    join(dir, 'ebpf-studio.yaml'),
    [
      'version: 1',
      'localCluster: east',
      'clusters:',
      '  east: { id: 1, nodes: [] }',
      'services:',
      '  - name: orders',
      '    vip: 127.100.0.20',
      '    policy: { type: FailOver }',
      '    endpoints: { east: [127.0.0.1:9, 127.0.0.1:9] }',
      'programs:',
      `  - { name: lb, template: clusterset-socket-lb, attach: { cgroup: ${cgroup} } }`,
      '',
    ].join('\n'),
  );
  const r = cli(['run', dir]);
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /project-\d+\/ebpf-studio\.yaml:7:10: error: .*address:port/);
  assert.match(r.stderr, /ebpf-studio\.yaml:8:\d+: error: .*FailOver.*order/);
  assert.match(r.stderr, /ebpf-studio\.yaml:9:\d+: error: .*(duplicate|twice)/i);
  assert.ok(!existsSync(join(MOUNT!, cgroup)));
});

test('run refuses the cgroup2 root and paths outside the mount', { timeout: 60_000 }, (t) => {
  if (!requireKernel(t)) return;
  const dir = scaffoldProject();
  const attachedToRoot = (): string => execFileSync('bpftool', ['cgroup', 'show', MOUNT!], { encoding: 'utf8' });
  const before = attachedToRoot();
  for (const [path, message] of [['.', /is the cgroup2 root/], [MOUNT!, /is the cgroup2 root/], ['/sys', /not below the cgroup2 mount/]] as const) {
    const text = readFileSync(join(dir, 'ebpf-studio.yaml'), 'utf8').replace(/cgroup: [^ }]+/, `cgroup: ${path}`);
    writeFileSync(join(dir, 'ebpf-studio.yaml'), text);
    const r = cli(['run', dir]);
    assert.equal(r.status, 2, `${path}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.equal(attachedToRoot(), before, 'nothing was attached to the root cgroup');
});

test('run probes: FailOver leaves an endpoint that stops answering and comes back when it answers again', { timeout: 120_000 }, async (t) => {
  if (!requireKernel(t)) return;
  const dir = scaffoldProject();
  const cgroup = cgroupName();
  const backends = await startBackends();
  const listen = (port: number): Promise<Server> =>
    new Promise((resolve, reject) => {
      const server = createServer((socket) => socket.on('error', () => undefined).end('east-p'));
      server.once('error', reject).listen({ host: '127.0.0.1', port }, () => resolve(server));
    });
  let east = await listen(0);
  const port = (east.address() as AddressInfo).port;
  let run: ChildProcess | undefined;
  try {
    writeFileSync(
      join(dir, 'ebpf-studio.yaml'),
      [
        'version: 1',
        'localCluster: east',
        'clusters: { east: { id: 1, nodes: [] }, west: { id: 2, nodes: [] } }',
        'services:',
        '  - name: orders',
        `    vip: ${VIP.host}:${VIP.port}`,
        '    policy: { type: FailOver, order: [east, west] }',
        `    endpoints: { east: [127.0.0.1:${port}], west: [127.0.0.1:${backends.ports['west-a']!.tcp}] }`,
        // a timeout a stalled CI core cannot reach by chance; two probes in a row unanswered mark it down
        '    probe: { tcp: true, interval: 1s, timeout: 900ms, failures: 2 }',
        'programs:',
        `  - { name: lb, template: clusterset-socket-lb, attach: { cgroup: ${cgroup} } }`,
        '',
      ].join('\n'),
    );
    const driven = await startDriven(dir);
    run = driven.run;
    assert.deepEqual(await driven.drive(200), { 'east-p': 200 });
    await new Promise((r) => east.close(r));
    await driven.out.next(new RegExp(`probe: orders 127\\.0\\.0\\.1:${port} is down \\(ECONNREFUSED; 2 unanswered in a row\\)`), 10_000);
    assert.deepEqual(await driven.drive(200), { 'west-a': 200 }, 'the probe failed east over to west');
    east = await listen(port);
    await driven.out.next(new RegExp(`probe: orders 127\\.0\\.0\\.1:${port} is up again`), 10_000);
    assert.deepEqual(await driven.drive(200), { 'east-p': 200 }, 'and back when east answers');
    run.stdin!.end();
    assert.equal(await exited(run), 0, driven.out.all());
  } finally {
    await stop(run);
    east.close();
    backends.child.kill();
    await removeCgroups([join(MOUNT!, cgroup)]);
  }
});
