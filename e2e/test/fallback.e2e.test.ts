import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createTestNodes, requireKernel, type TestNodes } from '@ebpf-studio/test-support';
import { builtVsix, logLineTime, NOBODY, poll, REPO_ROOT, startSession, type ProcessEntry, type Problem, type Session } from '../src';

const REJECTED = 'failover-unchecked.bpf.c';
const REJECTED_LINE = 26;
const CLEAN = 'xdp-gateway-counter.bpf.c';
/** The inventory's first node: where the default target falls back to. */
const FIRST = 'west-1';
const SECOND = 'east-1';
const ACTIVATION = /ExtensionService#_doActivateExtension ebpf-studio\.ebpf-traffic-studio\b/;
const FALLBACK_STATUS = (verdict: string): RegExp => new RegExp(`^eBPF: ${FIRST} \\(no local kernel\\) ${verdict}$`);
const NOTIFICATION = new RegExp(`verifies on ${FIRST}`);
const NO_CAPABILITIES = /^0+$/;

const isNullDeref = (p: Problem): boolean => p.severity === 'Error' && p.line === REJECTED_LINE && p.text.includes('BPF-NULL-DEREF');
const isFallbackNote = (p: Problem): boolean => p.severity === 'Info' && p.text.includes(`Verified on ${FIRST} (no local kernel)`);
const describeProcesses = (ps: ProcessEntry[]): string => JSON.stringify(ps.map((p) => `${p.pid} uid ${p.uid} caps ${p.capEff}: ${p.command.slice(0, 120)}`));

/** The agent payloads the bootstrap uploaded to a node (directories under its root's ~/.cache/ebpf-studio). */
function uploadedAgents(nodes: TestNodes, name: string): string[] {
  const cache = join(nodes.node(name).rootHome, '.cache', 'ebpf-studio');
  return existsSync(cache) ? readdirSync(cache).filter((d) => existsSync(join(cache, d, '.complete'))) : [];
}

const logins = (nodes: TestNodes, name: string): number => (readFileSync(nodes.node(name).sshdLog, 'utf8').match(/Accepted publickey for /g) ?? []).length;

test('no usable local kernel (VS Code run as nobody): the inventory\'s first node verifies, and the UI says so', { timeout: 10 * 60_000 }, async (t) => {
  if (!requireKernel(t)) return;
  const vsix = await builtVsix();
  const nodes = await createTestNodes({ clusters: { west: [FIRST], east: [SECOND] } });
  let session: Session | undefined;
  try {
    // nobody reads the harness's ssh files: the key (root's; an open key is refused only when it is the user's own), known_hosts, ssh_config
    for (const file of [nodes.userKey.privatePath, nodes.knownHosts, nodes.sshConfig]) chmodSync(file, 0o644);
    session = await startSession({
      name: 'fallback',
      vsix,
      runAs: NOBODY,
      files: {
        [REJECTED]: readFileSync(join(REPO_ROOT, 'examples', REJECTED), 'utf8'),
        [CLEAN]: readFileSync(join(REPO_ROOT, 'examples', CLEAN), 'utf8'),
        'ebpf-studio.yaml': readFileSync(nodes.inventory, 'utf8'),
        '.vscode/settings.json': JSON.stringify({ 'ebpfStudio.sshConfig': nodes.sshConfig }, null, 2),
      },
      log: (line) => t.diagnostic(line),
    });
    const s = session;
    const { workbench, ui } = s;
    t.diagnostic(`VSIX installed in ${s.timings.installExtensionMs} ms, code-server up in ${s.timings.codeServerStartMs} ms, workbench up in ${s.timings.workbenchMs} ms`);

    await t.test('code-server, its extension host and the language server run as nobody, without capabilities', async () => {
      const line = await s.waitForLog(ACTIVATION, 60_000);
      t.diagnostic(`extension activated ${logLineTime(line) - s.loadedAt} ms after the workbench started loading`);
      let seen: ProcessEntry[] = [];
      await poll(
        () => ((seen = s.processes()).some((p) => p.command.includes('ebpf-studio.js')) ? true : undefined),
        30_000,
        () => `no language server (dist/ebpf-studio.js) among the session's processes within 30 s: ${describeProcesses(seen)}`,
      );
      assert.deepEqual(seen.filter((p) => p.uid !== NOBODY.uid || !NO_CAPABILITIES.test(p.capEff)), [], `every process is nobody's, without capabilities: ${describeProcesses(seen)}`);
      t.diagnostic(`${seen.length} processes of the session, all uid ${NOBODY.uid} with no effective capabilities`);
    });

    await t.test(`opening the rejected file: the squiggle on line ${REJECTED_LINE} carries ${FIRST}'s verdict`, async () => {
      const opened = Date.now();
      await workbench.openFromExplorer(REJECTED);
      await workbench.waitForSquiggle(REJECTED_LINE, 'error', 90_000);
      t.diagnostic(`open → squiggle (SSH, agent upload, verification on ${FIRST}) in ${Date.now() - opened} ms`);
      // the notification comes with the first verdict; its toast hides itself after a while, the Notifications list keeps it
      const toast = await ui.waitForNotification(NOTIFICATION, 10_000);
      t.diagnostic(`notification: ${toast}`);
      await workbench.screenshot('rejected');
      const problem = await workbench.waitForProblem(isNullDeref, 10_000);
      const note = await workbench.waitForProblem(isFallbackNote, 10_000);
      t.diagnostic(`problem: ${problem.text}`);
      t.diagnostic(`note: ${note.text}`);
      assert.match(note.text, /this machine's kernel cannot verify — sudo refused/, 'says why this machine cannot');
      assert.match(note.text, /ebpfStudio\.verifyTarget/, 'says how to change it');
      // the lens above the program moves the lines below it: hover once it is there
      const lens = await workbench.waitForCodeLens(/rejected/, 10_000);
      t.diagnostic(`CodeLens: ${lens}`);
      const hover = await workbench.hoverSquiggle(REJECTED_LINE);
      assert.match(hover, /without a NULL check/);
    });

    await t.test(`the status bar says the file verifies on ${FIRST} because this machine cannot`, async () => {
      const status = await ui.waitForStatusBar(FALLBACK_STATUS('✗ 1'), 10_000);
      t.diagnostic(`status bar: ${status}`);
      const tooltip = await ui.statusBarTooltip(FALLBACK_STATUS('✗ 1'));
      t.diagnostic(`its tooltip: ${tooltip}`);
      assert.match(tooltip, new RegExp(`verified by ${FIRST}'s kernel — 1 error\\.`));
      assert.match(tooltip, /this machine's kernel cannot verify — sudo refused/);
    });

    await t.test(`one notification says it verifies on ${FIRST} and why; its Open Settings shows ebpfStudio.verifyTarget`, async () => {
      const listed = await ui.notificationList();
      const ours = listed.filter((n) => NOTIFICATION.test(n));
      assert.equal(ours.length, 1, `one notification: ${JSON.stringify(listed)}`);
      assert.match(ours[0]!, /this machine's kernel cannot verify — sudo refused/, 'says why');
      assert.match(ours[0]!, /Open Settings/);
      await workbench.screenshot('notification');
      await ui.clickNotificationButton(NOTIFICATION, 'Open Settings', 10_000);
      const shown = await ui.waitForSettingsEditor((e) => e.query === 'ebpfStudio.verifyTarget' && e.settings.some((title) => /Verify Target$/.test(title)), 20_000);
      t.diagnostic(`Settings editor: ${JSON.stringify(shown)}`);
      assert.equal(shown.settings.length, 1, 'the one setting');
      await workbench.screenshot('settings');
      await ui.closeModalEditor();
    });

    await t.test(`a second file verifies on ${FIRST} too, with no second notification`, async () => {
      await workbench.quickOpen(CLEAN);
      const clean = await ui.waitForStatusBar(FALLBACK_STATUS('✓'), 60_000);
      t.diagnostic(`status bar on the clean file: ${clean}`);
      await workbench.screenshot('clean');
      const listed = await ui.notificationList();
      assert.deepEqual(listed.filter((n) => /eBPF|verif/i.test(n)), [], `no other eBPF notification: ${JSON.stringify(listed)}`);
    });

    await t.test(`the verdicts came from ${FIRST} over SSH; this machine's kernel verified nothing`, async () => {
      assert.equal(uploadedAgents(nodes, FIRST).length, 1, `the agent was uploaded to ${FIRST}`);
      assert.ok(logins(nodes, FIRST) >= 1, `${FIRST}'s sshd accepted the controller's key`);
      assert.deepEqual([logins(nodes, SECOND), uploadedAgents(nodes, SECOND)], [0, []], `${SECOND} was not used`);
      const refused = await s.waitForLog(/agent: sudo: a password is required/, 10_000);
      t.diagnostic(`the local agent: ${refused}`);
      const now = s.processes();
      assert.deepEqual(now.filter((p) => p.uid !== NOBODY.uid || !NO_CAPABILITIES.test(p.capEff)), [], `every process is still nobody's, without capabilities: ${describeProcesses(now)}`);
    });
  } finally {
    await session?.dispose();
    nodes.remove();
  }
  const left = session?.processes() ?? [];
  assert.deepEqual(left, [], `nothing of nobody's code-server is left: ${describeProcesses(left)}`);
});
