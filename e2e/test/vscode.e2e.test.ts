import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { requireKernel } from '@ebpf-studio/test-support';
import { builtVsix, logLineTime, REPO_ROOT, startSession, type Problem } from '../src';

const EXAMPLE = 'failover-unchecked.bpf.c';
const NULL_DEREF_LINE = 26;
const ACTIVATION = /ExtensionService#_doActivateExtension ebpf-studio\.ebpf-traffic-studio\b/;

test('VS Code shows the kernel verifier rejecting an unchecked lookup, explains it and fixes it', { timeout: 15 * 60_000 }, async (t) => {
  if (!requireKernel(t)) return;
  const vsix = await builtVsix();
  const session = await startSession({
    name: 'failover-unchecked',
    vsix,
    files: { [EXAMPLE]: readFileSync(join(REPO_ROOT, 'examples', EXAMPLE), 'utf8') },
    log: (line) => t.diagnostic(line),
  });
  const { workbench, timings } = session;
  t.diagnostic(`toolchain ready in ${timings.toolchainMs} ms, VSIX installed in ${timings.installExtensionMs} ms, code-server up in ${timings.codeServerStartMs} ms, workbench up in ${timings.workbenchMs} ms`);
  const isNullDeref = (p: Problem): boolean => p.line === NULL_DEREF_LINE && p.text.includes('BPF-NULL-DEREF');
  try {
    await t.test('the extension activates for a workspace with a .bpf.c file', async () => {
      const line = await session.waitForLog(ACTIVATION);
      t.diagnostic(`extension activated ${logLineTime(line) - session.loadedAt} ms after the workbench started loading`);
    });

    await t.test(`opening the file shows the verifier's rejection on line ${NULL_DEREF_LINE} in the Problems panel`, async () => {
      const opened = Date.now();
      await workbench.openFromExplorer(EXAMPLE);
      const problem = await workbench.waitForProblem(isNullDeref);
      await workbench.waitForSquiggle(NULL_DEREF_LINE);
      t.diagnostic(`open → squiggle and problem in ${Date.now() - opened} ms`);
      assert.equal(problem.severity, 'Error');
      await workbench.screenshot('rejected');
    });

    await t.test('hovering the squiggle explains the rejection and the fix', async () => {
      const hover = await workbench.hoverSquiggle(NULL_DEREF_LINE);
      await workbench.screenshot('hover');
      assert.match(hover, /without a NULL check/);
      assert.match(hover, /can return NULL/);
    });

    await t.test("the program's CodeLens opens its verifier log as a bpf-verifier-log document", async () => {
      const started = Date.now();
      await workbench.clickCodeLens(/rejected/);
      await workbench.waitForEditor(`${EXAMPLE}-failover_connect4.bpflog`);
      t.diagnostic(`CodeLens → verifier log shown in ${Date.now() - started} ms`);
      await workbench.screenshot('verifier-log');
      assert.equal(await workbench.languageMode(), 'BPF Verifier Log');
      assert.match(await workbench.editorText(), /invalid mem access 'map_value_or_null'/);
    });

    await t.test('F1 "eBPF: Open Verifier Log" on the source shows the log of its rejected program', async () => {
      await workbench.quickOpen(EXAMPLE);
      const started = Date.now();
      await workbench.runCommand('eBPF: Open Verifier Log');
      await workbench.waitForEditor(`${EXAMPLE}.bpflog`);
      t.diagnostic(`F1 → verifier log shown in ${Date.now() - started} ms`);
      assert.equal(await workbench.languageMode(), 'BPF Verifier Log');
      assert.match(await workbench.editorText(), /invalid mem access 'map_value_or_null'/);
    });

    await t.test("Ctrl+. → 'Add a NULL check' fixes the program and the problem goes", async () => {
      await workbench.selectTab(EXAMPLE);
      const started = Date.now();
      const chosen = await workbench.applyQuickFix(NULL_DEREF_LINE, /Add a NULL check/);
      await workbench.waitForNoProblem(isNullDeref);
      t.diagnostic(`quick fix '${chosen}' → problem gone in ${Date.now() - started} ms`);
      assert.match(await workbench.editorText(), /if \(!h\)/);
      const lens = await workbench.waitForCodeLens(/accepted/);
      t.diagnostic(`quick fix → CodeLens '${lens}' in ${Date.now() - started} ms`);
      await workbench.screenshot('fixed');
    });
  } finally {
    await session.dispose();
  }
});
