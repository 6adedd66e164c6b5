import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, test, type TestContext } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import { verifySource } from '@ebpf-studio/server';
import { explorerFromLog, explorerFromReport, parseState, type ExplorerData, type ExplorerInstruction } from '@ebpf-studio/server';
import { startLocalAgent } from '@ebpf-studio/remote-agent';
import { requireKernel, tempDir } from '@ebpf-studio/test-support';

const ROOT = join(__dirname, '..', '..', '..');
const BIN = join(ROOT, 'cli', 'bin', 'ebpf-studio.js');
const FIXTURES = join(ROOT, 'server', 'test', 'fixtures', 'verify');
const SAVED_LOGS = join(ROOT, 'libbpf-ts', 'test', 'data', 'logs');
const ARTIFACTS = join(ROOT, '.artifacts', 'explorer');
const WEB_DIST = join(ROOT, 'web', 'dist');
const CHROMIUM = '/usr/bin/chromium';
/** As e2e/src/browser.ts: a headless Chromium in a container. */
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** The rejected fixture the page is tested on: reads the IPv4 header without a data_end check. */
const PKT_OOB = join(FIXTURES, 'xdp-gateway-ip-unchecked.bpf.c');

async function explore(file: string): Promise<ExplorerData> {
  const text = readFileSync(file, 'utf8');
  const agent = startLocalAgent();
  try {
    return explorerFromReport(await verifySource(text, file, { agent, logLevel: 2 }), text);
  } finally {
    agent.dispose();
  }
}

function savedLog(name: string, withSource = true): ExplorerData {
  const base = name.replace(/\.l\d\..*$|\.l\d\.log$/, '');
  const source = join(SAVED_LOGS, `${base}.bpf.c`);
  const text = readFileSync(join(SAVED_LOGS, name), 'utf8');
  return explorerFromLog(text, join(SAVED_LOGS, name), withSource ? { file: source, text: readFileSync(source, 'utf8') } : undefined);
}

function at(instructions: readonly ExplorerInstruction[], idx: number): ExplorerInstruction {
  const found = instructions.find((i) => i.idx === idx);
  assert.ok(found, `no instruction ${idx}`);
  return found;
}

/**
 * A level-2 log of a loop the verifier walked `iterations` times (10 instructions each), rejected at the
 * end: what a program that hits the complexity limit leaves, at any size.
 */
function loopLog(iterations: number): string {
  const out = ['func#0 @0', '0: R1=ctx() R10=fp0', '; int scan(struct xdp_md *ctx) @ scan.bpf.c:10', '0: (b7) r6 = 0                        ; R6=0', '1: (bf) r7 = r1                       ; R1=ctx() R7=ctx()'];
  const scalar = 'scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))';
  for (let i = 0; i < iterations; i++) {
    const value = `map_value(map=weights,ks=4,vs=65536,off=${4 * i})`;
    out.push(
      '; for (__u32 i = 0; i < N; i++) { @ scan.bpf.c:12',
      `2: (bf) r2 = r6                       ; R2=${i} R6=${i}`,
      `3: (67) r2 <<= 2                      ; R2=${4 * i}`,
      '; sum += weights[i]; @ scan.bpf.c:13',
      '4: (18) r1 = 0xffff888105bbe400       ; R1=map_value(map=weights,ks=4,vs=65536)',
      `6: (0f) r1 += r2                      ; R1=${value} R2=${4 * i}`,
      `7: (61) r3 = *(u32 *)(r1 +0)          ; R1=${value} R3=${scalar}`,
      `8: (0f) r8 += r3                      ; R3=${scalar} R8=scalar()`,
      '9: (7b) *(u64 *)(r10 -8) = r8         ; R8=scalar() R10=fp0 fp-8_w=scalar()',
      `10: (07) r6 += 1                      ; R6=${i + 1}`,
      `11: (a5) if r6 < 0x4000 goto pc-10    ; R6=${i + 1}`,
      '12: (05) goto pc+0',
    );
  }
  out.push('; return sum; @ scan.bpf.c:16', '13: (bf) r0 = r9', 'R9 !read_ok', `processed ${iterations * 10 + 3} insns (limit 1000000) max_states_per_insn 4 total_states 100 peak_states 100 mark_read 0`);
  return `${out.join('\n')}\n`;
}

describe('explorer data from saved logs (any kernel)', () => {
  test('state strings: registers and stack slots, parentheses kept whole, liveness marks dropped, frames named', () => {
    assert.deepEqual(parseState('R2=scalar(smin=0,var_off=(0x0; 0xff)) R10=fp0 fp-8_w=mmmm???? refs=4'), {
      frame: 0,
      registers: [['R2', 'scalar(smin=0,var_off=(0x0; 0xff))'], ['R10', 'fp0']],
      stack: [['fp-8', 'mmmm????']],
    });
    assert.deepEqual(parseState('frame1: R1_w=ctx() R10=fp0'), { frame: 1, registers: [['R1', 'ctx()'], ['R10', 'fp0']], stack: [] });
  });

  test('a level-2 log with its source: the error instruction, its line, a diagnostic there, and the state rebuilt', () => {
    const data = savedLog('global-func.l2.log');
    const [program] = data.programs;
    assert.ok(program);
    assert.equal(program.verdict, 'rejected');
    assert.equal(program.instructions.length, 22);
    const error = program.instructions.filter((i) => i.isError);
    assert.deepEqual(error.map((i) => [i.idx, i.text, i.line]), [[21, 'r1 += r2', 7]]);
    assert.deepEqual(program.diagnostics.map((d) => [d.line, d.code]), [[7, 'BPF-NULL-DEREF']]);
    // The state accumulates: R1 from instruction 0's state is still there at 4, with the stack written since.
    assert.equal(at(program.instructions, 4).registers?.['R1'], 'ctx()');
    assert.deepEqual(at(program.instructions, 4).stack, { 'fp-8': 'mmmm8080' });
    // `Validating port_of() func#1...` starts from that function's own arguments, nothing of the caller.
    assert.deepEqual(Object.keys(at(program.instructions, 19).registers ?? {}), ['R1', 'R2', 'R10']);
    assert.equal(at(program.instructions, 19).registers?.['R1'], 'mem_or_null(id=3,sz=4)');
  });

  test('a level-1 log: a helper call leaves R1-R5 uninitialised', () => {
    const [program] = savedLog('map-null.l1.log').programs;
    assert.deepEqual(at(program!.instructions, 4).registers?.['R1'], 'map_ptr(map=counters,ks=4,vs=8)');
    assert.deepEqual(at(program!.instructions, 6).registers, { R0: 'map_value_or_null(id=1,map=counters,ks=4,vs=8)', R10: 'fp0' });
    assert.equal(program!.instructions.at(-1)?.isError, true);
    assert.equal(program!.instructions.at(-1)?.line, 18);
  });

  test('a log without its source: instructions with their annotations, no lines to show, named after the file', () => {
    const data = savedLog('map-null.l2.log', false);
    assert.equal(data.source, undefined);
    assert.equal(data.programs[0]?.name, 'map-null.l2.log');
    assert.equal(data.programs[0]?.instructions[0]?.annotation?.text, '__u32 key = ctx->ingress_ifindex;');
    assert.equal(data.programs[0]?.diagnostics.length, 0);
  });

  test("a rotating buffer's tail: marked truncated", () => {
    const [program] = savedLog('loop-complexity.l2.tail.log').programs;
    assert.equal(program?.truncated, true);
    assert.ok((program?.instructions.length ?? 0) > 0);
  });

  test('100 000 instructions: every one kept with its state, in bounded time', () => {
    const started = performance.now();
    const [program] = explorerFromLog(loopLog(10_000), 'loop.log').programs;
    const ms = performance.now() - started;
    process.stderr.write(`explorer data for 100 003 instructions: ${ms.toFixed(0)} ms\n`);
    assert.equal(program?.instructions.length, 100_003);
    assert.equal(program?.instructions.at(-1)?.isError, true);
    assert.equal(program?.instructions[5]?.visits, 10_000);
    assert.equal(program?.instructions.at(-3)?.registers?.['R6'], '10000');
    assert.ok(ms < 10_000, `${ms} ms`);
  });
});

describe('explorer data from the kernel (level-2 log of a rejected fixture)', () => {
  test('xdp-gateway-ip-unchecked: 12 instructions, rejected at 11 on line 31, registers per instruction', async (t) => {
    if (!requireKernel(t)) return;
    const data = await explore(PKT_OOB);
    assert.equal(data.source, readFileSync(PKT_OOB, 'utf8'));
    assert.deepEqual(data.programs.map((p) => [p.name, p.verdict]), [['xdp_gateway', 'rejected']]);
    const program = data.programs[0]!;
    assert.equal(program.instructions.length, 12);
    const error = program.instructions.filter((i) => i.isError);
    assert.deepEqual(error.map((i) => [i.idx, i.text, i.line]), [[11, 'r1 = *(u32 *)(r1 +30)', 31]]);
    assert.deepEqual(program.diagnostics.map((d) => [d.line, d.code]), [[31, 'BPF-PKT-OOB']]);
    assert.match(program.message ?? '', /invalid access to packet/);
    assert.equal(at(program.instructions, 10).registers?.['R3'], '8');
    assert.equal(at(program.instructions, 11).registers?.['R1'], 'pkt(r=14)');
    assert.equal(at(program.instructions, 5).line, 25);
  });

  test('multi-three: one entry per program; the accepted ones have no log', async (t) => {
    if (!requireKernel(t)) return;
    const data = await explore(join(FIXTURES, 'multi-three.bpf.c'));
    assert.deepEqual(data.programs.map((p) => [p.name, p.verdict, p.instructions.length > 0]), [
      ['xdp_count', 'accepted', false],
      ['xdp_gateway_v4', 'rejected', true],
      ['tc_mark', 'accepted', false],
    ]);
    assert.ok(data.programs[1]!.diagnostics.length > 0);
    assert.deepEqual(data.programs[0]!.diagnostics, []);
  });

  test('tc-sk-lookup-leak: after bpf_sk_lookup_tcp only R0 and the callee-saved registers are known', async (t) => {
    if (!requireKernel(t)) return;
    const [program] = (await explore(join(FIXTURES, 'tc-sk-lookup-leak.bpf.c'))).programs;
    const call = program!.instructions.find((i) => i.text.startsWith('call bpf_sk_lookup_tcp'));
    assert.deepEqual(Object.keys(call?.registers ?? {}), ['R0', 'R6', 'R10']);
    assert.match(call?.registers?.['R0'] ?? '', /^sock_or_null\(/);
  });
});

/** Chromium is installed by the e2e toolchain (e2e/src/install.ts); without it the page cannot be tested. */
function requireChromium(t: TestContext): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env['EBPF_STUDIO_REQUIRE_KERNEL'] === '1') throw new Error(`${CHROMIUM} is missing (apt-get install chromium)`);
  t.skip(`needs ${CHROMIUM}`);
  return false;
}

/** `ebpf-studio explore ... --no-open` in its own process group, up until `stop`. */
interface Served {
  url: string;
  /** Ctrl-C, as a person would; resolves with the exit code. */
  stop(): Promise<number | null>;
}

const groups = new Set<number>();
process.once('exit', () => {
  for (const pgid of groups) killGroup(pgid);
});

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // already gone
  }
  groups.delete(pgid);
}

async function serve(args: string[]): Promise<Served> {
  const child: ChildProcess = spawn(process.execPath, [BIN, 'explore', '--no-open', ...args], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid!;
  groups.add(pid);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let output = '';
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`explore printed no URL in 60 s:\n${output}`)), 60_000);
      const read = (chunk: Buffer): void => {
        output += chunk.toString();
        const m = /Verifier Explorer: (\S+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      };
      child.stdout!.on('data', read);
      child.stderr!.on('data', read);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`explore exited (${code}) before serving:\n${output}`));
      });
    });
    return {
      url,
      stop: async () => {
        child.kill('SIGINT');
        const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000))]);
        killGroup(pid);
        return code === 'timeout' ? null : code;
      },
    };
  } catch (err) {
    killGroup(pid);
    throw err;
  }
}

/**
 * A headless Chromium page on the served URL; the browser is closed and the server stopped with Ctrl-C
 * whatever happens in `body`. Resolves with the server's exit code.
 */
async function withPage(served: Served, body: (page: Page) => Promise<void>): Promise<number | null> {
  const home = tempDir('ebpf-studio-explorer-chromium-');
  const dirs = { XDG_CONFIG_HOME: join(home, 'config'), XDG_CACHE_HOME: join(home, 'cache'), XDG_DATA_HOME: join(home, 'data'), TMPDIR: join(home, 'tmp') };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  try {
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, env: { ...process.env, ...dirs } });
    try {
      const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
      const problems: string[] = [];
      page.on('pageerror', (err) => problems.push(err.message));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      await page.goto(served.url);
      await body(page);
      assert.deepEqual(problems, [], 'errors in the page');
    } finally {
      await browser.close();
    }
  } catch (err) {
    await served.stop();
    throw err;
  }
  return served.stop();
}

// Waiting goes through selectors: the page's CSP forbids the eval behind string predicates.

/** Waits until the page's status line (the selected instruction and its line) reads `text`. */
function waitForStatus(page: Page, text: string, timeout = 30_000): Promise<void> {
  return page.locator('#status', { hasText: new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }).waitFor({ timeout });
}

/** Waits until `#id` has `data-key` = `value`. */
function waitForData(page: Page, id: string, key: string, value: string): Promise<void> {
  return page.locator(`#${id}[data-${key}="${value}"]`).waitFor();
}

/** Starts a module worker from the page's MonacoEnvironment.getWorkerUrl as monaco does (blob: bootstrap importing it). */
const START_MONACO_WORKER = `new Promise((resolve) => {
  const url = MonacoEnvironment.getWorkerUrl('workerMain.js', 'editorWorkerService');
  const bootstrap = 'await import(' + JSON.stringify(url) + '); postMessage("ready");';
  const worker = new Worker(URL.createObjectURL(new Blob([bootstrap], { type: 'text/javascript' })), { type: 'module' });
  worker.onmessage = () => resolve(url);
  worker.onerror = (e) => resolve('error: ' + e.message);
})`;

async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** The page's assets: built by `npm run build -w web`, or here when a fresh tree has not built them. */
function ensureWebBuilt(): void {
  if (!existsSync(join(WEB_DIST, 'index.html'))) execFileSync(process.execPath, [join(ROOT, 'web', 'scripts', 'build.js')], { stdio: 'inherit' });
}

describe('ebpf-studio explore in a browser', () => {
  test('the rejected fixture: markers, the error instruction, instruction ↔ source line', { timeout: 180_000 }, async (t) => {
    if (!requireKernel(t) || !requireChromium(t)) return;
    ensureWebBuilt();
    const served = await serve([PKT_OOB]);
    assert.match(served.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const code = await withPage(served, async (page) => {
      // The error instruction is selected on load, on its source line.
      await waitForStatus(page, 'insn 11 · line 31');
      assert.equal(await page.locator('#source').getAttribute('data-line'), '31');
      assert.ok((await page.locator('#source .squiggly-error').count()) >= 1, 'a marker on the source');
      assert.equal(await page.locator('#source .has-insns.error').count(), 1);
      assert.ok((await page.locator('#source .has-insns').count()) > 1);
      assert.equal(await page.locator('#stream .insn-error').count(), 1);
      await page.locator('#source .squiggly-error').first().hover({ force: true });
      await page.locator('.monaco-hover', { hasText: 'BPF-PKT-OOB' }).first().waitFor();

      // An instruction → its source line, revealed and highlighted; its state in the panel.
      await page.locator('#stream .line-numbers', { hasText: /^2$/ }).click();
      await waitForStatus(page, 'insn 2 · line 21');
      assert.equal(await page.locator('#source').getAttribute('data-line'), '21');
      assert.equal(await page.locator('#source .source-highlight').count(), 1);
      await page.locator('#source .view-line', { hasText: 'void *data = (void *)(long)ctx->data;' }).waitFor({ state: 'visible' });
      assert.equal(await page.locator('#state-title').textContent(), 'after insn 2');
      assert.match((await page.locator('#state').textContent()) ?? '', /R1pkt\(r=0\)/);
      t.diagnostic(`screenshot: ${await screenshot(page, 'xdp-gateway-ip-unchecked')}`);

      // A source line → its first instruction, then the next one.
      const line25 = page.locator('#source .view-line', { hasText: 'if ((void *)(eth + 1) > data_end)' });
      await line25.click();
      await waitForData(page, 'stream', 'position', '3');
      await waitForStatus(page, 'insn 3 · line 25');
      await line25.click();
      await waitForData(page, 'stream', 'position', '4');

      // Monaco's worker is our bundled one and starts under the page's CSP.
      assert.match(String(await page.evaluate(START_MONACO_WORKER)), /^http:\/\/127\.0\.0\.1:\d+\/editor\.worker\.js$/);
    });
    assert.equal(code, 0, 'Ctrl-C ends explore with exit 0');
  });

  test('a saved 100 000-instruction log without source (#/log): ready and responsive', { timeout: 180_000 }, async (t) => {
    if (!requireChromium(t)) return;
    ensureWebBuilt();
    const log = join(tempDir(), 'scan.log');
    writeFileSync(log, loopLog(10_000));
    const started = performance.now();
    const served = await serve(['--log', log]);
    assert.match(served.url, /\/#\/log$/);
    const code = await withPage(served, async (page) => {
      await waitForStatus(page, 'insn 13 · line 16', 60_000);
      const readyMs = performance.now() - started;
      assert.equal(await page.locator('#stream-count').textContent(), '(100003 printed, 100003 processed)');
      assert.equal(await page.locator('body.log-mode').count(), 1);
      assert.equal(await page.locator('#source-pane').isVisible(), false);
      const clicked = performance.now();
      await page.locator('#stream .line-numbers', { hasText: /^7$/ }).first().click();
      await waitForStatus(page, 'insn 7 · line 13');
      const selectMs = performance.now() - clicked;
      await page.keyboard.press('Control+Home');
      await page.keyboard.press('ArrowDown');
      await waitForStatus(page, 'insn 1 · line 10');
      t.diagnostic(`100 003 instructions: command start → page ready ${readyMs.toFixed(0)} ms; click → selected ${selectMs.toFixed(0)} ms`);
      t.diagnostic(`screenshot: ${await screenshot(page, 'log-100k')}`);
      assert.ok(selectMs < 5000, `selecting took ${selectMs} ms`);
    });
    assert.equal(code, 0);
  });
});
