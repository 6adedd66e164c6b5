import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertShares, destroyCgroup, requireKernel } from '@ebpf-studio/test-support';
import { builtVsix, poll, runCgroup, scaffoldSocketLb, startBackends, startDrivenRun, startSession, type Backends, type Drive, type DrivenRun, type Session } from '../src';

/**
 * Issue #7 in a real VS Code: a clusterset-socket-lb project that `ebpf-studio run` runs in a terminal
 * (the test is that terminal), watched and steered from VS Code like a person does — the Nodes tree, the
 * Show Maps split chart, ebpf-studio.yaml edited in the editor, Apply Policy, Set Cluster Health, and a map
 * view closed while it streams. Real kernel, real attach in a cgroup of this run, real sockets on 127/8.
 */

const ACTIVATION = /ExtensionService#_doActivateExtension ebpf-studio\.ebpf-traffic-studio\b/;
const CHANNEL = 'eBPF Traffic Studio';
const NODES_VIEW = 'eBPF Nodes';
const PROJECT = `lb-${process.pid}`;
/** `ebpf-studio run` names its session after the project's directory. */
const RUN_SESSION = `run-${PROJECT}`;
const MAP_TAB = 'Map lb_stats · local';
/** This run's VIP: 127.104.0.0/16 by process id, so parallel runs never share one. */
const VIP = `127.104.${Math.floor(process.pid / 250) % 250}.${(process.pid % 250) + 1}`;
const ORDERS = { service: 'orders', port: 8080 };
const PAYMENTS = { service: 'payments', port: 8081 };
/** The fixture backends: their names say which cluster answered. */
const CLUSTER_OF: Record<string, string> = { 'east-a': 'east', 'east-b': 'east', 'west-a': 'west', 'east-p': 'east', 'west-p': 'west' };
const TRACED_MAPS_REQUEST = /\[trace\] Sending request 'ebpfStudio\/maps - \(\d+\)'/;
const REFRESH_MS = 1000;

function policyYaml(ports: Record<string, number>, cgroup: string): string {
  const ep = (name: string): string => `127.0.0.1:${ports[name]!}`;
  return [
    'version: 1',
    'localCluster: east',
    'clusters:',
    '  east: { id: 1, nodes: [] }',
    '  west: { id: 2, nodes: [] }',
    'services:',
    `  - name: ${ORDERS.service}`,
    `    vip: ${VIP}:${ORDERS.port}`,
    '    policy: { type: ActiveActive, weights: { east: 80, west: 20 } }',
    `    endpoints: { east: [${ep('east-a')}, ${ep('east-b')}], west: [${ep('west-a')}] }`,
    `  - name: ${PAYMENTS.service}`,
    `    vip: ${VIP}:${PAYMENTS.port}`,
    '    policy: { type: ActiveActive, weights: { east: 50, west: 50 } }',
    `    endpoints: { east: [${ep('east-p')}], west: [${ep('west-p')}] }`,
    'programs:',
    `  - { name: lb, template: clusterset-socket-lb, attach: { cgroup: ${cgroup} } }`,
    '',
  ].join('\n');
}

/** One cluster's bar of the Show Maps split chart: what its label and tooltip say. */
interface Bar {
  count: number;
  /** The share the bar shows (0..1). */
  share: number;
  /** The policy's share, from the tooltip (0..1). */
  policy: number;
}
type Chart = Record<string, { total: number; clusters: Record<string, Bar> }>;

/** The split chart of the active Show Maps webview: per service its total and per cluster its bar; empty while it is not drawn. */
async function readChart(s: Session): Promise<Chart> {
  const split = s.ui.activeWebview().locator('#split');
  if (!(await split.waitFor({ timeout: 1000 }).then(() => true, () => false))) return {};
  const boxes = await split
    .locator(':scope > div')
    .evaluateAll((divs) => divs.map((d) => ({ heading: d.querySelector('h3')?.textContent ?? '', bars: [...d.querySelectorAll('.bar > div')].map((b) => ({ label: b.textContent ?? '', title: b.getAttribute('title') ?? '' })) })))
    .catch(() => []);
  const chart: Chart = {};
  for (const { heading, bars } of boxes) {
    const h = /^(\S+) · (\d+) steered$/.exec(heading);
    if (!h) continue;
    const clusters: Record<string, Bar> = {};
    for (const { label, title } of bars) {
      const l = /^(\S+) ([\d.]+)%$/.exec(label);
      const t = /^(\S+): (\d+) \(policy ([\d.]+)%\)$/.exec(title);
      if (l && t && l[1] === t[1]) clusters[t[1]!] = { count: Number(t[2]), share: Number(l[2]) / 100, policy: Number(t[3]) / 100 };
    }
    chart[h[1]!] = { total: Number(h[2]), clusters };
  }
  return chart;
}

async function waitForChart(s: Session, accept: (c: Chart) => boolean, what: string, timeoutMs = 20_000): Promise<Chart> {
  let seen: Chart = {};
  return poll(
    async () => (accept((seen = await readChart(s))) ? seen : undefined),
    timeoutMs,
    () => `the split chart did not show ${what} within ${timeoutMs} ms; it shows ${JSON.stringify(seen)}`,
    250,
  );
}

/** Resolves with the file's text once it matches (an editor's save reached the disk). */
function fileShows(path: string, text: RegExp, timeoutMs = 10_000): Promise<string> {
  let seen = '';
  return poll(() => (text.test((seen = readFileSync(path, 'utf8'))) ? seen : undefined), timeoutMs, () => `${path} does not match ${text} after ${timeoutMs} ms:\n${seen}`);
}

/** Connections per cluster of what the client saw. */
function perCluster(drive: Drive): Record<string, number> {
  const out: Record<string, number> = { east: 0, west: 0 };
  for (const [name, n] of Object.entries(drive.names)) out[CLUSTER_OF[name] ?? name] = (out[CLUSTER_OF[name] ?? name] ?? 0) + n;
  return out;
}

interface Step {
  drive: Drive;
  /** What the chart's counts grew by, per cluster. */
  grew: Record<string, number>;
  chart: Chart;
}

/**
 * Drive `count` connects to a service's VIP from inside the run's cgroup, then wait until the chart counts
 * them; the chart must have grown per cluster by exactly what the client saw.
 */
async function driveAndWatch(s: Session, run: DrivenRun, service: typeof ORDERS, count: number, before: Chart): Promise<Step> {
  const drive = await run.drive(VIP, service.port, count);
  assert.deepEqual(drive.errors, {}, `${service.service}: every connect answered`);
  const was = before[service.service]!;
  const chart = await waitForChart(s, (c) => c[service.service]?.total === was.total + count, `${service.service} at ${was.total + count} steered`);
  const now = chart[service.service]!;
  const grew = Object.fromEntries(Object.entries(now.clusters).map(([c, bar]) => [c, bar.count - (was.clusters[c]?.count ?? 0)]));
  assert.deepEqual(grew, perCluster(drive), `${service.service}: lb_stats (the chart) counted per cluster what the client saw`);
  return { drive, grew, chart };
}

function assertSplit(t: { diagnostic(m: string): void }, label: string, grew: Record<string, number>, eastShare: number): void {
  const east = grew['east']! / (grew['east']! + grew['west']!);
  const fit = assertShares(label, [grew['east']!, grew['west']!], [eastShare, 1 - eastShare]);
  t.diagnostic(`MEASURE ${label}: east ${grew['east']} · west ${grew['west']} (east ${(east * 100).toFixed(1)}%, policy ${(eastShare * 100).toFixed(0)}%), ${fit}`);
}

test('Apply Policy, Set Cluster Health and the split chart of a running clusterset-socket-lb in VS Code; a map view closed mid-stream stops polling', { timeout: 10 * 60_000 }, async (t) => {
  if (!requireKernel(t)) return;
  const vsix = await builtVsix();
  const cgroup = runCgroup('e2epolicy');
  let backends: Backends | undefined;
  let session: Session | undefined;
  let run: DrivenRun | undefined;
  try {
    const started = Date.now();
    const b = await startBackends(['east-a', 'east-b', 'west-a', 'east-p', 'west-p']);
    backends = b;
    session = await startSession({
      name: 'policy',
      vsix,
      files: {},
      prepare: (folder) => {
        scaffoldSocketLb(join(folder, PROJECT));
        writeFileSync(join(folder, PROJECT, 'ebpf-studio.yaml'), policyYaml(b.ports, cgroup.name));
      },
      log: (line) => t.diagnostic(line),
    });
    const s = session;
    const { workbench, ui } = s;
    const project = join(s.folder, PROJECT);
    const yamlPath = join(project, 'ebpf-studio.yaml');
    let chart: Chart = {};

    await t.test('ebpf-studio run in a terminal → the Nodes tree lists this machine with the run\'s session and its maps', async () => {
      run = await startDrivenRun(project, cgroup.path);
      t.diagnostic(`run: session ${run.session} attached in cgroup ${cgroup.name}`);
      await s.waitForLog(ACTIVATION, 60_000);
      // every LSP message in the channel's log from here on: the map view's requests can be counted
      await ui.setLogLevel(CHANNEL, 'Trace');
      await ui.showViewContainer('eBPF Traffic Studio');
      await s.waitForLog(/\[trace\] Sending request 'ebpfStudio\/nodes/, 15_000);
      const rows = await ui.waitForViewRows(
        NODES_VIEW,
        (r) => r.some((x) => /^local\s*this machine · kernel/.test(x)) && r.some((x) => x.includes(RUN_SESSION) && x.includes('8 attached')) && r.some((x) => x.startsWith('lb_stats')),
        30_000,
      );
      t.diagnostic(`Nodes tree: ${JSON.stringify(rows.filter((r) => r.startsWith('local') || r.includes(RUN_SESSION)))}`);
      await workbench.screenshot('nodes');
    });

    await t.test('Show Maps → lb_stats of the run: split bars per service near 80/20 and 50/50 after traffic', async () => {
      await ui.startCommand('eBPF: Show Maps');
      await ui.waitForQuickInput(/Show Maps/, 60_000);
      const picked = await ui.pickQuickItem('lb_stats', new RegExp(`lb_stats.*${RUN_SESSION} on local`));
      t.diagnostic(`picked: ${picked}`);
      chart = await waitForChart(s, (c) => c[ORDERS.service]?.total === 0 && c[PAYMENTS.service]?.total === 0, 'both services at 0 steered', 30_000);
      assert.ok(s.logLines(TRACED_MAPS_REQUEST).length > 0, 'the channel traces the view\'s maps requests');

      const orders = await driveAndWatch(s, run!, ORDERS, 2000, chart);
      assertSplit(t, 'orders 80/20', orders.grew, 0.8);
      const bars = orders.chart[ORDERS.service]!.clusters;
      assert.deepEqual([bars['east']!.policy, bars['west']!.policy], [0.8, 0.2], 'the tooltips give the policy\'s split');
      assert.ok(Math.abs(bars['east']!.share - orders.grew['east']! / 2000) < 0.001, 'the bar shows the counted share');
      const payments = await driveAndWatch(s, run!, PAYMENTS, 1000, orders.chart);
      assertSplit(t, 'payments 50/50', payments.grew, 0.5);
      chart = payments.chart;
      await workbench.screenshot('split-80-20');
    });

    await t.test('weights edited in ebpf-studio.yaml, saved, "eBPF: Apply Policy" → notification; traffic follows 30/70', async () => {
      await workbench.quickOpen(`${PROJECT}/ebpf-studio.yaml`);
      const matches = await workbench.replaceAll('east: 80, west: 20', 'east: 30, west: 70');
      assert.match(matches, /^1 of 1$/);
      await workbench.save();
      await fileShows(yamlPath, /weights: \{ east: 30, west: 70 \}/);
      await workbench.runCommand('eBPF: Apply Policy');
      const note = await ui.waitForNotification(new RegExp(`Policy applied on local \\(session ${run!.session}\\): \\d+ map updates`), 30_000);
      t.diagnostic(`notification: ${note}`);
      assert.ok(Number(/(\d+) map updates/.exec(note)![1]) > 0, 'the changed weights were written');
      await ui.clearNotifications();

      await ui.showEditorTab(MAP_TAB);
      const orders = await driveAndWatch(s, run!, ORDERS, 2000, chart);
      assertSplit(t, 'orders 30/70 after Apply Policy', orders.grew, 0.3);
      const bars = orders.chart[ORDERS.service]!.clusters;
      assert.deepEqual([bars['east']!.policy, bars['west']!.policy], [0.3, 0.7]);
      assert.equal(orders.chart[ORDERS.service]!.total, 4000, 'the counts went on: the same programs and maps, no reload');
      chart = orders.chart;
      await workbench.screenshot('split-30-70');
    });

    await t.test('a corrupted ebpf-studio.yaml: Apply Policy names file:line and what is wrong; the maps keep 30/70', async () => {
      await workbench.selectTab('ebpf-studio.yaml');
      await workbench.replaceAll('east: 30, west: 70', 'east: 30, wset: 70');
      await workbench.save();
      const text = await fileShows(yamlPath, /wset: 70/);
      const line = text.split('\n').findIndex((l) => l.includes('wset')) + 1;
      await workbench.runCommand('eBPF: Apply Policy');
      const note = await ui.waitForNotification(/Applying the policy of .* failed/, 30_000);
      t.diagnostic(`notification: ${note}`);
      assert.match(note, new RegExp(`${PROJECT}/ebpf-studio\\.yaml:${line}:\\d+: .*unknown cluster "wset"`));
      assert.match(note, /Retry/);
      await workbench.screenshot('apply-corrupted');
      await ui.clearNotifications();

      await ui.showEditorTab(MAP_TAB);
      const orders = await driveAndWatch(s, run!, ORDERS, 2000, chart);
      assertSplit(t, 'orders after the failed apply (still 30/70)', orders.grew, 0.3);
      const bars = orders.chart[ORDERS.service]!.clusters;
      assert.deepEqual([bars['east']!.policy, bars['west']!.policy], [0.3, 0.7], 'the run keeps the policy applied last');
      chart = orders.chart;
    });

    await t.test('"eBPF: Set Cluster Health" orders → east → down: notification; new orders traffic goes only to west', async () => {
      await ui.runCommandWithAnswers('eBPF: Set Cluster Health', [
        { title: /Set Cluster Health: service/, input: ORDERS.service },
        { title: /Set Cluster Health: orders/, input: 'east' },
        { title: /orders → east is/, pick: 'down' },
      ]);
      const note = await ui.waitForNotification(new RegExp(`orders: east marked down on local \\(session ${run!.session}\\): \\d+ map updates`), 30_000);
      t.diagnostic(`notification: ${note}`);
      await ui.clearNotifications();

      await ui.showEditorTab(MAP_TAB);
      const orders = await driveAndWatch(s, run!, ORDERS, 1000, chart);
      t.diagnostic(`MEASURE orders with east down: ${JSON.stringify(orders.grew)} (client saw ${JSON.stringify(orders.drive.names)})`);
      assert.deepEqual(orders.grew, { east: 0, west: 1000 }, 'east\'s count stopped growing: every new connection went to west');
      assert.equal(orders.chart[ORDERS.service]!.clusters['east']!.policy, 0, 'the tooltip says east gets nothing now');
      const payments = await driveAndWatch(s, run!, PAYMENTS, 1000, orders.chart);
      assertSplit(t, 'payments 50/50 with orders\' east down (a per-service mark)', payments.grew, 0.5);
      chart = payments.chart;
      await workbench.screenshot('east-down');
    });

    await t.test('closing the Show Maps view mid-stream stops its polling: its refreshes are all the maps requests, none follow', async () => {
      const traced = (): number => s.logLines(TRACED_MAPS_REQUEST).length;
      const before = traced();
      // the observation can see polling: the open view's requests keep coming
      const whileOpen = await poll(() => (traced() >= before + 2 ? traced() : undefined), 10 * REFRESH_MS, () => `the open view made no new maps requests in ${10 * REFRESH_MS} ms (${before} traced)`);
      await ui.closeEditorTab(MAP_TAB);
      const closed = await s.waitForLog(new RegExp(`Map view lb_stats of session ${run!.session} on local closed after (\\d+) refreshes: polling stopped`), 10_000);
      const refreshes = Number(/after (\d+) refreshes/.exec(closed)![1]);
      assert.equal(await ui.page.getByRole('tab', { name: new RegExp(`^${MAP_TAB}`) }).count(), 0, 'the tab is gone');
      // a refresh begun just before the close may reach the trace a moment after the close line
      await poll(() => (traced() >= refreshes ? true : undefined), REFRESH_MS, () => `${traced()} maps requests traced for ${refreshes} refreshes`);
      t.diagnostic(`MEASURE map view: ${refreshes} refreshes logged at close; ${traced()} maps requests traced (${whileOpen} a moment before the close)`);
      // absence over several refresh periods: a tick still scheduled would show as one more traced request
      const watchUntil = Date.now() + 4 * REFRESH_MS;
      while (Date.now() < watchUntil) {
        assert.equal(traced(), refreshes, 'every maps request is one of the view\'s refreshes, and none follows its close');
        await new Promise((r) => setTimeout(r, REFRESH_MS / 4));
      }
    });

    await t.test('the run ends with its command: exit 0, its session, cgroup and run state gone, and the Nodes tree drops it', async () => {
      const code = await run!.end();
      assert.equal(code, 0, run!.output().slice(-3000));
      assert.match(run!.output(), /session closed: every program detached/);
      assert.ok(!existsSync(cgroup.path), `the run removed its cgroup ${cgroup.path}`);
      assert.ok(!existsSync(join(project, '.ebpf-studio', 'run.json')), 'the run state is gone');
      await ui.showViewContainer('eBPF Traffic Studio');
      await ui.waitForViewRows(NODES_VIEW, (r) => r.some((x) => x.startsWith('local')) && !r.some((x) => x.includes(RUN_SESSION)), 20_000);
      t.diagnostic(`MEASURE whole file: ${Date.now() - started} ms from the backends' start`);
    });
  } finally {
    await run?.interrupt();
    await session?.dispose();
    backends?.stop();
    destroyCgroup(cgroup.path);
  }
});
