/**
 * Issue #7 in a real VS Code: a node without Node.js behind a slow management link (tbf inside the node's
 * own namespace), so the bootstrap's upload of the Node runtime takes long enough to watch and cancel.
 * The "Verifying on …" notification shows the upload as it goes; its Cancel stops the upload; with the
 * limit gone, Verify on Node again gives the node's verdict from a runtime uploaded whole.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { NODE_RUNTIME_VERSION, nodeRuntimeArchive } from '@ebpf-studio/remote-agent';
import { createTestNodes, requireKernel, type TestNode } from '@ebpf-studio/test-support';
import { builtVsix, logLineTime, poll, REPO_ROOT, startSession, type Session } from '../src';

const COUNTER = 'xdp-count.bpf.c';
const ACTIVATION = /ExtensionService#_doActivateExtension ebpf-studio\.ebpf-traffic-studio\b/;
/** The node's management ingress while the upload is to be cancelled: the runtime alone would take ≈ 21 s. */
const SLOW_BYTES_PER_SECOND = 2_000_000;
/** Cancel once the notification shows this many megabytes of the runtime sent. */
const CANCEL_AT_MB = 1;

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

const sftpServers = (node: TestNode): number[] => node.processes().filter((p) => p.command === 'sftp-server').map((p) => p.pid);

test('cancelling a bootstrap in VS Code: the upload stops, and nothing half-uploaded is used next time', { timeout: 8 * 60_000 }, async (t) => {
  if (!requireKernel(t)) return;
  const vsix = await builtVsix();
  // The extension would fetch the runtime from the npm registry into its own (per-session) cache.
  const runtime = await nodeRuntimeArchive('x64');
  const cachedRuntime = relative(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), runtime);
  assert.ok(!cachedRuntime.startsWith('..'), `${runtime} is in this machine's cache`);
  const runtimeSize = statSync(runtime).size;
  const name = `bare-${process.pid.toString(36)}`;
  const nodes = await createTestNodes({ clusters: { south: [name] }, hideNode: [name] });
  let session: Session | undefined;
  try {
    const node = nodes.node(name);
    const kernel = node.exec('uname', ['-r']).trim();
    const cache = join(node.rootHome, '.cache', 'ebpf-studio');
    const parts = (): { path: string; bytes: number }[] => filesUnder(cache).filter((f) => /\.part-/.test(f)).map((path) => ({ path, bytes: statSync(path).size }));
    node.limitManagementIngress(SLOW_BYTES_PER_SECOND);
    session = await startSession({
      name: 'bootstrap',
      vsix,
      files: {
        [COUNTER]: readFileSync(join(REPO_ROOT, 'remote-agent', 'test', 'data', COUNTER), 'utf8'),
        'ebpf-studio.yaml': readFileSync(nodes.inventory, 'utf8'),
        '.vscode/settings.json': JSON.stringify({ 'ebpfStudio.sshConfig': nodes.sshConfig }, null, 2),
      },
      cachedFiles: { [cachedRuntime]: runtime },
      log: (line) => t.diagnostic(line),
    });
    const s = session;
    const { workbench, ui } = s;
    await s.waitForLog(ACTIVATION, 60_000);
    await workbench.openFromExplorer(COUNTER);
    const verifying = new RegExp(`Verifying on ${escape(name)}`);
    let halfBytes = 0;

    await t.test('Verify on Node… over the slow link: the notification shows the runtime uploading; its Cancel stops the upload', async () => {
      await ui.startCommand('eBPF: Verify on Node…');
      await ui.waitForQuickInput(/Verify xdp-count\.bpf\.c on/, 60_000);
      t.diagnostic(`picker row: ${await ui.waitForQuickItem(new RegExp(`${escape(name)}.*agent not installed yet`), 10_000)}`);
      await ui.checkQuickItems([new RegExp(escape(name))]);
      const uploading = new RegExp(`${verifying.source}: uploading the Node runtime (\\d+\\.\\d)/(\\d+\\.\\d) MB`);
      let toasts: string[] = [];
      const shown = await poll(
        async () => (toasts = await ui.notificationTexts()).find((text) => Number(uploading.exec(text)?.[1]) >= CANCEL_AT_MB),
        60_000,
        () => `no notification shows the runtime uploading past ${CANCEL_AT_MB} MB; toasts: ${JSON.stringify(toasts)}`,
      );
      const shownBytes = Number(uploading.exec(shown)![1]) * 1_000_000;
      t.diagnostic(`notification: ${shown}`);
      await workbench.screenshot('uploading');
      await ui.clickNotificationButton(verifying, 'Cancel');
      const cancelledAt = Date.now();
      await ui.waitForNoNotification(verifying, 5000);
      const goneMs = Date.now() - cancelledAt;

      const line = await s.waitForLog(new RegExp(`${escape(name)}: bootstrap cancelled while uploading the Node runtime \\(\\d+\\.\\d of \\d+\\.\\d MB sent\\): the upload stopped`), 30_000);
      const loggedMs = logLineTime(line) - cancelledAt;
      // The connection is reset: its SFTP server process on the node ends, so the partial file cannot grow.
      await poll(() => (sftpServers(node).length === 0 ? true : undefined), 10_000, () => `sftp-server still runs on the node (${sftpServers(node).join(', ')})`);
      const stoppedMs = Date.now() - cancelledAt;
      const left = parts();
      assert.equal(left.length, 1, `one partial runtime archive on the node: ${JSON.stringify(left)}`);
      assert.match(left[0]!.path, new RegExp(`/node-v${escape(NODE_RUNTIME_VERSION)}-linux-x64\\.tgz\\.part-[0-9a-f]{12}$`));
      halfBytes = left[0]!.bytes;
      assert.ok(halfBytes < runtimeSize / 2, `the upload stopped early: ${halfBytes} of ${runtimeSize} bytes`);
      assert.ok(!existsSync(join(cache, `node-v${NODE_RUNTIME_VERSION}-linux-x64`)), 'no runtime was unpacked');
      assert.ok(!existsSync(join(cache, `node-v${NODE_RUNTIME_VERSION}-linux-x64.tgz`)), 'no runtime archive under its final name');
      const failures = (await ui.notificationTexts()).filter((text) => /failed|cannot be reached/.test(text));
      assert.deepEqual(failures, [], 'a cancel is no failure');
      t.diagnostic(`MEASURE Cancel → notification gone ${goneMs} ms, → server logged the cancel ${loggedMs} ms, → sftp-server gone on the node ${stoppedMs} ms; the node has ${halfBytes} of ${runtimeSize} bytes (${((halfBytes - shownBytes) / 1_000_000).toFixed(2)} MB more than the notification showed before the click)`);
    });

    await t.test(`without the limit, Verify on Node… again: a verdict from ${name}'s kernel (${kernel}), from a runtime uploaded whole`, async () => {
      node.unlimitManagementIngress();
      await ui.startCommand('eBPF: Verify on Node…');
      await ui.waitForQuickInput(/Verify xdp-count\.bpf\.c on/, 60_000);
      await ui.checkQuickItems([new RegExp(escape(name))]);
      await ui.waitForQuickInput(/Verdicts of xdp-count\.bpf\.c per kernel/, 60_000);
      const row = await ui.waitForQuickItem(new RegExp(`count_packets.*✓ ${escape(name)} ${escape(kernel)}`), 10_000);
      t.diagnostic(`verdict row: ${row}`);
      await workbench.screenshot('verdict');
      await ui.page.keyboard.press('Escape');
      const removed = await s.waitForLog(new RegExp(`${escape(name)}: removed what an interrupted upload left: node-v\\S+\\.tgz\\.part-[0-9a-f]{12} \\((\\d+) bytes\\)`), 10_000);
      assert.match(removed, new RegExp(`\\(${halfBytes} bytes\\)`), 'the part removed is the one the cancel left, grown no further');
      const uploaded = await s.waitForLog(new RegExp(`${escape(name)}: uploaded and unpacked Node ${escape(NODE_RUNTIME_VERSION)} \\((\\d+) bytes\\)`), 10_000);
      assert.match(uploaded, new RegExp(`\\(${runtimeSize} bytes\\)`), 'the whole runtime was uploaded');
      assert.deepEqual(parts(), [], 'no partial file is left on the node');
      assert.ok(existsSync(join(cache, `node-v${NODE_RUNTIME_VERSION}-linux-x64`, '.complete')), 'the runtime is installed, marked complete');
      t.diagnostic(`log: ${removed.replace(/^.*?(\S+: removed)/, '$1')}`);
      t.diagnostic(`log: ${uploaded.replace(/^.*?(\S+: uploaded)/, '$1')}`);
    });
  } finally {
    await session?.dispose();
    nodes.remove();
  }
});
