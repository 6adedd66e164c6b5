import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createTestNodes, eventually, requireKernel, type TestNode } from '@ebpf-studio/test-support';
import { ARTIFACTS_DIR, builtVsix, explorerSummary, logLineTime, poll, REPO_ROOT, startExploreCli, startSession, type Session } from '../src';

const REJECTED = 'failover-unchecked.bpf.c';
const REJECTED_LINE = 26;
const COUNTER = 'xdp-count.bpf.c';
/** One ring-buffer record (struct packet_event) per IPv4 packet. */
const EVENTS = 'xdp-events.bpf.c';
const TEMPLATE = 'xdp-maglev-gateway';
/** The trace filter that keeps the decoded records of UDP packets (IPPROTO_UDP 17) only. */
const UDP_RECORD = '"protocol":17,';
const ACTIVATION = /ExtensionService#_doActivateExtension ebpf-studio\.ebpf-traffic-studio\b/;
const NODES_VIEW = 'eBPF Nodes';
const UNREACHABLE = 'gone';

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** XDP programs on the node's data interface (bpftool net lists only the node's own namespace; `bpftool link` would list every test's links). */
const xdpOnData = (node: TestNode): unknown[] =>
  ((JSON.parse(node.exec('bpftool', ['-j', 'net', 'show'])) as { xdp?: { devname: string }[] }[])[0]?.xdp ?? []).filter((x) => x.devname === node.dataIfname);

/** packets_by_proto[1] (ICMP) as the Show Maps table shows it, or undefined before it is drawn. */
async function icmpCount(session: Session): Promise<number | undefined> {
  const rows = await session.ui.activeWebview().locator('#rows tr').allInnerTexts().catch(() => []);
  const row = rows.map((r) => r.split('\t').map((c) => c.trim())).find(([key]) => key === '1');
  return row ? Number(row[1]) : undefined;
}

test('the studio in VS Code: scaffold, verify on a node, attach, live maps, detach, Verifier Explorer and `ebpf-studio explore`', { timeout: 20 * 60_000 }, async (t) => {
  if (!requireKernel(t)) return;
  const vsix = await builtVsix();
  const nodes = await createTestNodes({ clusters: { east: ['east-1'] } });
  const node = nodes.node('east-1');
  const kernel = node.exec('uname', ['-r']).trim();
  // the harness's inventory plus a node whose sshd refuses connections
  const inventory = `${readFileSync(nodes.inventory, 'utf8')}  lost:\n    nodes:\n      - name: ${UNREACHABLE}\n        ssh: root@127.0.0.1:1\n`;
  let session: Session | undefined;
  try {
    session = await startSession({
      name: 'studio',
      vsix,
      files: {
        [REJECTED]: readFileSync(join(REPO_ROOT, 'examples', REJECTED), 'utf8'),
        [COUNTER]: readFileSync(join(REPO_ROOT, 'remote-agent', 'test', 'data', COUNTER), 'utf8'),
        [EVENTS]: readFileSync(join(REPO_ROOT, 'remote-agent', 'test', 'data', EVENTS), 'utf8'),
        'ebpf-studio.yaml': inventory,
        '.vscode/settings.json': JSON.stringify({ 'ebpfStudio.sshConfig': nodes.sshConfig }, null, 2),
      },
      // The trace terminal's text is read from the DOM renderer (the WebGL one draws on a canvas).
      // The LSP messages go to the extension's log (at Trace level), where a failing step can show them.
      settings: { 'terminal.integrated.gpuAcceleration': 'off', 'ebpfStudio.trace.server': 'messages' },
      log: (line) => t.diagnostic(line),
    });
    const s = session;
    const { workbench, ui } = s;
    t.diagnostic(`with the extension: VSIX installed in ${s.timings.installExtensionMs} ms, code-server up in ${s.timings.codeServerStartMs} ms, workbench up in ${s.timings.workbenchMs} ms`);

    await t.test('the extension activates for a workspace with BPF C files and ebpf-studio.yaml', async () => {
      const line = await s.waitForLog(ACTIVATION);
      t.diagnostic(`MEASURE activation: ${logLineTime(line) - s.loadedAt} ms after the workbench started loading`);
    });

    await t.test('opening a rejected file: squiggle', async () => {
      const opened = Date.now();
      await workbench.openFromExplorer(REJECTED);
      const drawn = Date.now() - opened;
      await workbench.waitForSquiggle(REJECTED_LINE);
      t.diagnostic(`MEASURE with the extension: open → text drawn ${drawn} ms, open → squiggle ${Date.now() - opened} ms`);
      assert.match(await ui.waitForStatusBar(/local ✗/), /✗ 1/);
    });

    await t.test('New Scheduling Program… → the files appear in the explorer and the program verifies clean', async () => {
      mkdirSync(join(s.folder, 'gateway'));
      await ui.setLogLevel('eBPF Traffic Studio', 'Trace');
      await ui.startCommand('eBPF: New Scheduling Program…');
      await ui.waitForQuickInput(/template/);
      await ui.chooseQuickItem(TEMPLATE);
      await ui.waitForQuickInput(/an empty folder/);
      await workbench.screenshot('new-program-folder');
      await ui.answerFileDialog(join(s.folder, 'gateway'), 'Create Here');
      await workbench.waitForEditor(`${TEMPLATE}.bpf.c`);
      await ui.waitForExplorerItem(`${TEMPLATE}.bpf.c`);
      await ui.waitForExplorerItem(`${TEMPLATE}.h`);
      const source = readFileSync(join(s.folder, 'gateway', `${TEMPLATE}.bpf.c`), 'utf8').split('\n');
      const secLine = source.findIndex((l) => /^SEC\("(?!\.maps|license)/.test(l)) + 1;
      await ui.waitForStatusBar(new RegExp(`^Ln ${secLine}, Col 1$`));
      let lenses: string[] = [];
      let status: string[] = [];
      await poll(
        async () => {
          [lenses, status] = await Promise.all([workbench.codeLenses(), ui.statusBarTexts()]);
          return lenses.length > 0 && lenses.every((l) => l.startsWith('✓')) ? true : undefined;
        },
        60_000,
        () => `the program's CodeLenses are ${JSON.stringify(lenses)}; status bar: ${JSON.stringify(status)}; LSP: ${s.logLines(/codeLens|didOpen|publishDiagnostics/).slice(-20).join('\n')}`,
      );
      t.diagnostic(`CodeLenses: ${JSON.stringify(lenses)}`);
      await ui.waitForStatusBar(/local ✓/);
      await workbench.screenshot('new-program');
      assert.ok(existsSync(join(s.folder, 'gateway', `${TEMPLATE}.bpf.c`)));
    });

    await t.test(`Verify on Node… → a verdict with east-1's kernel (${kernel})`, async () => {
      await workbench.quickOpen(COUNTER);
      await ui.startCommand('eBPF: Verify on Node…');
      await ui.waitForQuickInput(/Verify xdp-count\.bpf\.c on/, 60_000);
      await ui.checkQuickItems([/east-1/]);
      await ui.waitForQuickInput(/Verdicts of xdp-count\.bpf\.c per kernel/, 60_000);
      const row = await ui.waitForQuickItem(new RegExp(`count_packets.*✓ east-1 ${escape(kernel)}`));
      t.diagnostic(`verdict row: ${row}`);
      await workbench.screenshot('verify-on-node');
      await ui.page.keyboard.press('Escape');
    });

    await t.test('a node that cannot be reached: a notification with the reason and Retry', async () => {
      await ui.startCommand('eBPF: Verify on Node…');
      await ui.waitForQuickInput(/Verify xdp-count\.bpf\.c on/, 60_000);
      assert.match(await ui.waitForQuickItem(new RegExp(`${UNREACHABLE}.*unreachable`)), /unreachable/);
      await ui.checkQuickItems([new RegExp(`${UNREACHABLE}.*unreachable`)]);
      const note = await ui.waitForNotification(new RegExp(`Node ${UNREACHABLE} cannot be reached`), 60_000);
      t.diagnostic(`notification: ${note}`);
      assert.match(note, /Retry/);
      await workbench.screenshot('unreachable');
      await ui.page.keyboard.press('Escape');
      await ui.clearNotifications();
    });

    await t.test("Attach… to east-1's data interface → the Nodes tree shows the attachment", async () => {
      await workbench.quickOpen(COUNTER);
      await ui.startCommand('eBPF: Attach…');
      await ui.waitForQuickInput(/Attach on node/, 60_000);
      await ui.chooseQuickItem('east-1');
      await ui.waitForQuickInput(/Attach on east-1: program/, 60_000);
      await ui.chooseQuickItem('count_packets');
      await ui.waitForQuickInput(/Attach count_packets/);
      await ui.page.keyboard.type('not an interface!');
      await ui.waitForInputMessage(/An interface name/);
      await ui.answerInput(node.dataIfname);
      const note = await ui.waitForNotification(/Attached on east-1: count_packets /, 60_000);
      t.diagnostic(`notification: ${note}`);
      assert.equal(xdpOnData(node).length, 1, 'the node has our XDP program on its data interface');
      await ui.showViewContainer('eBPF Traffic Studio');
      const rows = await ui.waitForViewRows(NODES_VIEW, (r) => r.some((x) => x.includes('count_packets')), 30_000);
      t.diagnostic(`Nodes tree: ${JSON.stringify(rows)}`);
      assert.ok(rows.some((r) => r.includes('east-1') && r.includes(kernel)), 'the node with its kernel');
      await workbench.screenshot('attached');
    });

    await t.test('Show Maps → the counters grow with traffic from the cluster network', async () => {
      await ui.startCommand('eBPF: Show Maps');
      await ui.waitForQuickInput(/Show Maps/, 60_000);
      // this machine's sessions are listed too (first): other tests may hold the same map there
      await ui.pickQuickItem('packets_by_proto', /packets_by_proto.* on east-1$/);
      await ui.waitForWebviewText(/entries/);
      const ping = (count: number): void => void nodes.clusterNetns['east']!.exec('ping', ['-c', String(count), '-i', '0.2', '-W', '1', node.dataAddress]);
      ping(3);
      const first = await pollCount(s, (n) => n >= 3);
      ping(3);
      const second = await pollCount(s, (n) => n >= first + 3);
      t.diagnostic(`ICMP packets counted: ${first} → ${second}`);
      await workbench.screenshot('maps');
      await ui.closeEditorTab('Map packets_by_proto · east-1');
    });

    await t.test('Detach → gone on the node and from the tree', async () => {
      await ui.startCommand('eBPF: Detach');
      await ui.waitForQuickInput(/Detach/, 60_000);
      await ui.pickQuickItem('count_packets', /count_packets.*east-1 · /);
      await ui.waitForNotification(/Detached count_packets → .* on east-1\./, 60_000);
      assert.ok(await eventually(() => xdpOnData(node).length === 0, 10_000), 'no XDP program left on the node');
      await ui.showViewContainer('eBPF Traffic Studio');
      await ui.waitForViewRows(NODES_VIEW, (r) => r.some((x) => x.includes('east-1')) && !r.some((x) => x.includes('count_packets')), 30_000);
      await workbench.screenshot('detached');
    });

    await t.test('Start Trace on a ring-buffer program → decoded events in a terminal, filter (f) and pause (p); closing it stops the trace', async () => {
      await ui.clearNotifications();
      await workbench.quickOpen(EVENTS);
      await ui.startCommand('eBPF: Attach…');
      await ui.waitForQuickInput(/Attach on node/, 60_000);
      await ui.chooseQuickItem('east-1');
      await ui.waitForQuickInput(/Attach on east-1: program/, 60_000);
      await ui.chooseQuickItem('report_packets');
      await ui.waitForQuickInput(/Attach report_packets/);
      await ui.answerInput(node.dataIfname);
      t.diagnostic(`notification: ${await ui.waitForNotification(/Attached on east-1: report_packets /, 60_000)}`);
      assert.equal(xdpOnData(node).length, 1, 'the ring-buffer program is on the node\'s data interface');
      await ui.clearNotifications();

      await ui.startCommand('eBPF: Start Trace');
      await ui.waitForQuickInput(/Start Trace/, 60_000);
      await ui.pickQuickItem('events', /events.*ring buffer · report_packets on east-1$/);
      await ui.waitForTerminalText(/Tracing ring buffer events \(records decoded as struct packet_event\)/, 30_000);
      await s.waitForLog(/Trace trace-\d+ started: ring buffer events/, 30_000);
      const east = nodes.clusterNetns['east']!;
      east.exec('ping', ['-c', '3', '-i', '0.2', '-W', '1', node.dataAddress]);
      // ICMP (protocol 1) records, decoded field by field from the object's BTF
      const text = await ui.waitForTerminalText(/"protocol":\s*1\b[\s\S]*"protocol":\s*1\b[\s\S]*"protocol":\s*1\b/, 30_000);
      const events = text.split('\n').filter((l) => /"saddr"/.test(l));
      t.diagnostic(`trace terminal: ${events.length} events, e.g. ${events[0]?.trim()}`);
      assert.ok(events.length >= 3 && (text.match(/"daddr"/g) ?? []).length >= 3, 'records decoded with their fields, not hex');
      await workbench.screenshot('trace');

      // f: only records containing the filter's text are shown; ICMP sent before the UDP is filtered out
      const terminal = ui.page.locator('.terminal-wrapper.active .xterm').first();
      await terminal.click();
      await ui.page.keyboard.press('f');
      await ui.waitForQuickInput(/Trace filter/);
      await ui.answerInput(UDP_RECORD);
      await ui.waitForTerminalText(/filter\s+"protocol":17,/, 10_000);
      east.exec('ping', ['-c', '3', '-i', '0.2', '-W', '1', node.dataAddress]);
      sendUdp(east, node.dataAddress, 3);
      const filtered = await ui.waitForTerminalText(/filter\s+"protocol":17,(?:[\s\S]*"protocol":17,){3}/, 30_000);
      assert.doesNotMatch(filtered.slice(filtered.lastIndexOf('filter')), /"protocol":1,/, 'no ICMP record is shown once the filter is on');

      // p: paused, records are counted on the pause line but not shown; p again says how many were not shown
      await terminal.click();
      await ui.page.keyboard.press('p');
      const records = (text: string): number => (text.match(/"protocol":/g) ?? []).length;
      const beforePause = records(await ui.waitForTerminalText(/paused\s+\(p resumes\) · 0 events not shown/, 10_000));
      sendUdp(east, node.dataAddress, 3);
      const paused = await ui.waitForTerminalText(/paused\s+\(p resumes\) · 3 events not shown/, 30_000);
      assert.equal(records(paused), beforePause, 'no record is shown while paused');
      await ui.page.keyboard.press('p');
      await ui.waitForTerminalText(/resumed\s+3 events not shown while paused/, 10_000);

      await workbench.runCommand('Terminal: Kill the Active Terminal Instance');
      const stopped = await s.waitForLog(/Trace trace-\d+ stopped: ring buffer events/, 30_000);
      t.diagnostic(`log: ${stopped.replace(/^.*?(Trace trace)/, '$1')}`);

      await ui.clearNotifications();
      await ui.startCommand('eBPF: Detach');
      await ui.waitForQuickInput(/Detach/, 60_000);
      await ui.pickQuickItem('report_packets', /report_packets.*east-1 · /);
      await ui.waitForNotification(/Detached report_packets → .* on east-1\./, 60_000);
      assert.ok(await eventually(() => xdpOnData(node).length === 0, 10_000), 'no XDP program left on the node');
    });

    await t.test('Open Verifier Explorer shows the verified instructions; an instruction jumps to its source line in the editor, and back', async (st) => {
      if (!existsSync(join(REPO_ROOT, 'web', 'dist', 'explorer.js'))) {
        st.skip('web/dist is not built: the VSIX carries no Verifier Explorer yet');
        return;
      }
      await workbench.quickOpen(REJECTED);
      await workbench.runCommand('eBPF: Open Verifier Explorer');
      const text = await ui.waitForWebviewText(/Verified instructions[\s\S]*(r\d+ = |call )/i, 60_000);
      t.diagnostic(`explorer shows: ${text.slice(0, 200).replace(/\s+/g, ' ')}`);
      const explorer = ui.activeWebview();
      const onLoad = await explorerSummary(explorer);
      assert.match(onLoad.status, new RegExp(`line ${REJECTED_LINE}$`), 'the rejected instruction is selected on load');
      await workbench.screenshot('verifier-explorer');

      // a click on another instruction's index: the file's editor (beside, not focused) moves its cursor to that instruction's line
      const before = await workbench.cursorLine(REJECTED);
      let clicked: number | undefined;
      for (const index of await explorer.locator('#stream .line-numbers').all()) {
        if ((await index.innerText()).trim() === '') continue; // a source annotation's row
        await index.click({ timeout: 5000 });
        const line = Number(/line (\d+)$/.exec(await explorer.locator('#status').innerText())?.[1]);
        if (line !== REJECTED_LINE && line !== before) {
          clicked = line;
          break;
        }
      }
      assert.ok(clicked !== undefined, `the stream shows an instruction on a line other than ${REJECTED_LINE} and ${String(before)}`);
      const target = clicked;
      await poll(async () => ((await workbench.cursorLine(REJECTED)) === target ? true : undefined), 10_000, () => `the editor's cursor did not move to line ${target}`);
      assert.equal((await explorerSummary(explorer)).sourceLine, String(clicked), "the page's source highlights the same line");
      t.diagnostic(`instruction click → editor at line ${clicked} (was ${String(before)})`);
      await workbench.screenshot('explorer-jump-to-source');

      // back: the arrow keys in the editor walk to the rejected line, one line at a time as a person watches the cursor; the page selects its instruction
      await ui.page.keyboard.press('Control+1');
      await ui.waitForStatusBar(new RegExp(`^Ln ${clicked}, Col 1$`), 10_000);
      for (let line = clicked; line !== REJECTED_LINE; ) {
        line += line < REJECTED_LINE ? 1 : -1;
        await ui.page.keyboard.press(line > clicked ? 'ArrowDown' : 'ArrowUp');
        await ui.waitForStatusBar(new RegExp(`^Ln ${line}, Col 1$`), 5000);
      }
      const back = await poll(
        async () => {
          const now = await explorerSummary(explorer);
          return now.status === onLoad.status && now.sourceLine === String(REJECTED_LINE) ? now : undefined;
        },
        10_000,
        () => `the page did not select line ${REJECTED_LINE}'s instruction (${onLoad.status}) after the editor's cursor moved there`,
      );
      t.diagnostic(`editor line ${REJECTED_LINE} → page selects ${back.status}`);
    });

    await t.test('`ebpf-studio explore` of the same file in the same browser shows the same page', async () => {
      const inVsCode = await explorerSummary(ui.activeWebview());
      const cli = await startExploreCli(join(s.folder, REJECTED));
      const page = await ui.page.context().newPage();
      try {
        await page.goto(cli.url);
        await page.locator('#stream .view-line').first().waitFor({ timeout: 30_000 });
        const inBrowser = await poll(
          async () => {
            const now = await explorerSummary(page);
            return now.status === '' ? undefined : now;
          },
          30_000,
          () => 'the page served by ebpf-studio explore selected no instruction',
        );
        t.diagnostic(`ebpf-studio explore at ${cli.url}: ${JSON.stringify(inBrowser)}`);
        await page.screenshot({ path: join(ARTIFACTS_DIR, 'studio-explore-cli.png') });
        assert.deepEqual(inBrowser, inVsCode, 'the same programs, verdict, file and kernel, instruction count, selected instruction and source line');
      } finally {
        await page.close();
        assert.equal(await cli.stop(), 0, 'ebpf-studio explore stops cleanly on Ctrl-C');
      }
    });
  } finally {
    await session?.dispose();
    nodes.remove();
  }
});

/** `count` UDP datagrams to `address` (port 9, discard) sent from inside `netns`. */
function sendUdp(netns: { exec(cmd: string, args?: readonly string[]): string }, address: string, count: number): void {
  const script = `const s = require('node:dgram').createSocket('udp4'); let n = ${count}; const next = () => n-- > 0 ? s.send('x', 9, ${JSON.stringify(address)}, next) : s.close(); next();`;
  netns.exec(process.execPath, ['-e', script]);
}

async function pollCount(session: Session, enough: (n: number) => boolean, timeoutMs = 15_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last: number | undefined;
  while (Date.now() < deadline) {
    last = await icmpCount(session);
    if (last !== undefined && enough(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the table's ICMP counter is ${String(last)} after ${timeoutMs} ms`);
}

test('baseline: the same workbench steps with no extension installed', { timeout: 10 * 60_000 }, async (t) => {
  const session = await startSession({ name: 'baseline', files: { [REJECTED]: readFileSync(join(REPO_ROOT, 'examples', REJECTED), 'utf8') }, log: (line) => t.diagnostic(line) });
  try {
    t.diagnostic(`MEASURE without the extension: workbench up in ${session.timings.workbenchMs} ms`);
    const opened = Date.now();
    await session.workbench.openFromExplorer(REJECTED);
    t.diagnostic(`MEASURE without the extension: open → text drawn ${Date.now() - opened} ms (no squiggle to wait for)`);
  } finally {
    await session.dispose();
  }
});
