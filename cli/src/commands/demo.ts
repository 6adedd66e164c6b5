import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { effectiveHealth, EngineError, findTemplate, listTemplates, readRunState, readStatus, scaffold, verifySource, type ServiceStatus, type TemplateManifest } from '@ebpf-studio/server';
import { startLocalAgent } from '@ebpf-studio/remote-agent';
import { spawnInCgroup } from '../cgroups';
import { EXIT } from '../exit-codes';
import { formatReport } from '../format';
import { markHealth } from '../run-state/live-run';
import { appliedPolicy } from '../run-state/project';
import { startRun, type RunningProject } from '../run-state/runner';
import { since } from '../run-state/status-view';

const EXAMPLES = join(__dirname, '..', '..', '..', '..', 'examples');
const TEMPLATE = 'clusterset-socket-lb';
const VIP = { host: '127.100.0.20', port: 80 };
const ENDPOINTS = { east: ['east-1', 'east-2'], west: ['west-1'] } as const;
const WEIGHTS = { east: 80, west: 20 };
const CONNECTIONS = 1000;

const step = (text: string): void => console.log(`\n▶ ${text}`);
const indent = (text: string): string => text.replace(/^/gm, '    ');
const pct = (share: number): string => `${(share * 100).toFixed(1)}%`.padStart(6);

/** Part 1: verify the bundled samples against this machine's kernel and print each verdict. */
async function verifyExamples(): Promise<void> {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.bpf.c')).sort();
  const agent = startLocalAgent({ log: (line) => process.stderr.write(`agent: ${line}\n`) });
  try {
    const info = await agent.info();
    if (info.problems.length > 0) throw new EngineError(`cannot verify on this machine: ${info.problems.join('; ')}`);
    step(`1/2 verifying ${files.length} samples with the verifier of kernel ${info.kernelRelease} (libbpf ${info.libbpfVersion})`);
    let accepted = 0;
    let rejected = 0;
    for (const name of files) {
      const path = join(EXAMPLES, name);
      const report = await verifySource(await readFile(path, 'utf8'), path, { agent });
      console.log(`── ${name}\n${formatReport(report)}`);
      for (const p of report.programs) {
        if (p.verdict === 'accepted') accepted++;
        else rejected++;
      }
    }
    console.log(`${accepted} programs accepted, ${rejected} rejected (failover-unchecked.bpf.c is rejected on purpose: it shows a diagnostic)`);
  } finally {
    agent.dispose();
  }
}

/** A TCP endpoint on 127.0.0.1 that answers every connection with its name. */
function listen(name: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.end(name);
    });
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, backlog: 1024 }, () => resolve(server));
  });
}

function policyText(ports: Map<string, number>, cgroup: string): string {
  const list = (names: readonly string[]): string => names.map((n) => `127.0.0.1:${ports.get(n)}`).join(', ');
  return [
    '# Written by `ebpf-studio demo`: two clusters on this machine, their endpoints on 127.0.0.1 ports.',
    'version: 1',
    'localCluster: east',
    'clusters:',
    '  east: { id: 1, nodes: [] }',
    '  west: { id: 2, nodes: [] }',
    'services:',
    '  - name: orders',
    `    vip: ${VIP.host}:${VIP.port}`,
    `    policy: { type: ActiveActive, weights: { east: ${WEIGHTS.east}, west: ${WEIGHTS.west} } }`,
    `    endpoints: { east: [${list(ENDPOINTS.east)}], west: [${list(ENDPOINTS.west)}] }`,
    '    probe: { tcp: true, interval: 1s, timeout: 300ms }',
    'programs:',
    `  - { name: lb, template: ${TEMPLATE}, attach: { cgroup: ${cgroup} } }`,
    '',
  ].join('\n');
}

interface ClientResult {
  names: Record<string, number>;
  errors: Record<string, number>;
}

/** The template's client, in the run's cgroup: COUNT connects to the VIP, each reading the endpoint's name. */
function drive(running: RunningProject, client: string, count: number): Promise<ClientResult> {
  const child = spawnInCgroup(running.state.execCgroup!, process.execPath, [client, 'tcp', VIP.host, String(VIP.port), String(count)], ['ignore', 'pipe', 'inherit']);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      try {
        resolve(JSON.parse(out) as ClientResult);
      } catch {
        reject(new Error(`the client exited with ${code} and printed ${JSON.stringify(out)}`));
      }
    });
  });
}

async function counters(running: RunningProject): Promise<ServiceStatus> {
  const state = readRunState(running.project.dir)!;
  return (await readStatus(running.target.agent, state.session.id, appliedPolicy(state), effectiveHealth(state.health)))[0]!;
}

/** Drives connections and prints, per cluster, the policy's split, what the client saw and what the kernel counted. */
async function phase(running: RunningProject, client: string, title: string): Promise<Record<string, number>> {
  step(`${title}: ${CONNECTIONS} connections to ${VIP.host}:${VIP.port} from a client inside the cgroup`);
  const before = await counters(running);
  const started = Date.now();
  const result = await drive(running, client, CONNECTIONS);
  const kernel = since(await counters(running), before);
  const seen: Record<string, number> = {};
  for (const [name, n] of Object.entries(result.names)) seen[name.split('-')[0]!] = (seen[name.split('-')[0]!] ?? 0) + n;
  console.log(`    done in ${Date.now() - started} ms${Object.keys(result.errors).length > 0 ? `, errors: ${JSON.stringify(result.errors)}` : ', no errors'}`);
  console.log('    cluster  policy   measured by the client   counted by the kernel');
  for (const c of kernel.clusters) {
    const n = seen[c.cluster] ?? 0;
    console.log(`    ${c.cluster.padEnd(7)}  ${pct(c.expectedShare)}   ${`${pct(n / CONNECTIONS)} (${String(n).padStart(4)})`.padEnd(22)}   ${String(c.connects).padStart(5)}`);
  }
  return seen;
}

async function setClusterHealth(running: RunningProject, status: 'up' | 'down'): Promise<void> {
  step(`ebpf-studio health ${running.project.dir} orders east ${status}`);
  const { write } = await markHealth(running.project.dir, running.target.agent, 'orders', 'east', status);
  console.log(`    east marked ${status}: ${write.updates} map entries rewritten, no program reloaded`);
}

/** Part 2: scaffold, endpoints, run, traffic, failover and back; everything removed at the end (also on Ctrl-C). */
async function trafficDemo(template: TemplateManifest, catalogDir: string): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-studio-demo-'));
  const servers: Server[] = [];
  let running: RunningProject | undefined;
  let starting: Promise<RunningProject> | undefined;
  let cleaned: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaned ??= (async () => {
      step('cleaning up');
      // Interrupted while starting: a start that fails undoes itself, one that succeeds is stopped here.
      running ??= await starting?.catch(() => undefined);
      if (running) for (const left of await running.stop()) console.log(`    left behind: ${left}`);
      if (running) console.log('    session closed (every program detached), cgroup removed');
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      rmSync(dir, { recursive: true, force: true });
      console.log(`    endpoints stopped, ${dir} removed`);
    })());
  const interrupted = (): void => void cleanup().then(() => process.exit(130));
  process.once('SIGINT', interrupted);
  try {
    step(`2/2 multi-cluster traffic: ebpf-studio new ${TEMPLATE} ${dir}`);
    const made = scaffold(template, catalogDir, dir, true);
    console.log(`    ${made.files.join(', ')}`);
    const ports = new Map<string, number>();
    for (const name of [...ENDPOINTS.east, ...ENDPOINTS.west]) {
      const server = await listen(name);
      servers.push(server);
      ports.set(name, (server.address() as AddressInfo).port);
    }
    step(`endpoints: east ${ENDPOINTS.east.map((n) => `127.0.0.1:${ports.get(n)}`).join(', ')} · west ${ENDPOINTS.west.map((n) => `127.0.0.1:${ports.get(n)}`).join(', ')}`);
    writeFileSync(join(dir, 'ebpf-studio.yaml'), policyText(ports, made.cgroup));
    console.log(`    ebpf-studio.yaml: orders ${VIP.host}:${VIP.port}, ActiveActive east ${WEIGHTS.east} / west ${WEIGHTS.west}, TCP probe every 1s`);
    step(`ebpf-studio run ${dir} (in-process: the same code)`);
    starting = startRun({ project: dir, target: {}, leaseMs: 10_000, log: (l) => console.log(indent(l)), warn: (t) => console.error(indent(t)) });
    running = await starting;
    const client = join(template.dir, 'fixtures', 'client.js');
    const split = await phase(running, client, 'both clusters up');
    await setClusterHealth(running, 'down');
    const failover = await phase(running, client, 'east down: east\'s share fails over to west');
    await setClusterHealth(running, 'up');
    const back = await phase(running, client, 'east up again: back to the weights');
    const share = (seen: Record<string, number>): number => (seen['east'] ?? 0) / CONNECTIONS;
    const ok = Math.abs(share(split) - 0.8) < 0.06 && (failover['west'] ?? 0) === CONNECTIONS && Math.abs(share(back) - 0.8) < 0.06;
    step(ok ? 'the kernel split the traffic as the policy says, failed over, and came back' : 'the measured split does not match the policy (see above)');
    return ok;
  } finally {
    await cleanup();
    process.off('SIGINT', interrupted);
  }
}

/** `npm run demo`: the bundled samples through the verifier, then the clusterset socket LB with real traffic. */
export async function demoCommand(_argv: string[]): Promise<number> {
  const started = Date.now();
  console.log('eBPF Traffic Studio demo');
  await verifyExamples();
  const catalog = listTemplates();
  const template = findTemplate(catalog, TEMPLATE);
  if (!template) throw new EngineError(`no template ${TEMPLATE} in ${catalog.dir}`);
  const ok = await trafficDemo(template, catalog.dir);
  console.log(`\ndemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return ok ? EXIT.ok : EXIT.rejected;
}
