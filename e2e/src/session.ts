import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { openBrowser, type HeadlessBrowser } from './browser';
import { makeTempDir, removeTempDir } from './cleanup';
import { codeServerDirs, codeServerLogs, installExtension, instanceMark, startCodeServer, writeUserSettings, type CodeServer, type CodeServerDirs } from './code-server';
import { ensureToolchain } from './install';
import { poll } from './poll';
import { processesWithEnv, type ProcessEntry } from './processes';
import { handOver, makeTraversable, type RunAs } from './run-as';
import { REPO_ROOT } from './vsix';
import { WorkbenchUi } from './ui';
import { Workbench } from './workbench';

/** Screenshots and logs of the end-to-end tests (git-ignored). */
export const ARTIFACTS_DIR = join(REPO_ROOT, '.artifacts', 'e2e');

export interface SessionOptions {
  /** Names the session's screenshots and log in ARTIFACTS_DIR. */
  name: string;
  /** The extension to install; without one the workbench runs with no extension (a baseline). */
  vsix?: string;
  /** The workspace folder's files: relative path → contents. */
  files: Record<string, string>;
  /** User settings on top of the harness's quiet defaults. */
  settings?: Record<string, unknown>;
  /**
   * Run code-server — and so its extension host and the language server — as this unprivileged user,
   * without capabilities: the workspace and code-server's directories become its (Chromium stays
   * the test's). Without it code-server runs as the test process does.
   */
  runAs?: RunAs;
  /** Runs once the files are written, before code-server starts (e.g. a project made by the CLI, there from the workspace's start). */
  prepare?: (folder: string) => void | Promise<void>;
  /**
   * Files for the XDG cache directory code-server and the extension see (relative path → a file on this
   * machine): what the extension would otherwise fetch, e.g. the Node runtime it uploads to bare nodes.
   */
  cachedFiles?: Record<string, string>;
  log?: (line: string) => void;
}

/** Milliseconds each start-up step took. */
export interface SessionTimings {
  toolchainMs: number;
  installExtensionMs: number;
  codeServerStartMs: number;
  workbenchMs: number;
}

export interface Session {
  workbench: Workbench;
  /** Quick inputs, notifications, side-bar views, webviews, the status bar. */
  ui: WorkbenchUi;
  /** The workspace folder (absolute). */
  folder: string;
  timings: SessionTimings;
  /** When the browser started loading the workbench (epoch ms). */
  loadedAt: number;
  /** The processes of this code-server instance now (it, its extension host, what they started), found by their environment. */
  processes(): ProcessEntry[];
  /** Resolves with the first line of code-server's logs (extension host and output channels included) that matches. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Every line of code-server's logs (extension host and output channels included) that matches, now. */
  logLines(pattern: RegExp): string[];
  /** Screenshot the last state, stop the browser and code-server (whole process groups), save the logs to ARTIFACTS_DIR, remove the temporary files. */
  dispose(): Promise<void>;
}

/** The time (epoch ms) a VS Code log line was written: its `YYYY-MM-DD hh:mm:ss.mmm` prefix, local time. */
export function logLineTime(line: string): number {
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3})/.exec(line);
  if (!m) throw new Error(`not a timestamped log line: ${line}`);
  return new Date(`${m[1]}T${m[2]}`).getTime();
}

function matchingLines(dirs: CodeServerDirs, pattern: RegExp): string[] {
  return codeServerLogs(dirs).flatMap(({ text }) => text.split('\n').filter((l) => pattern.test(l)));
}

function findLog(dirs: CodeServerDirs, pattern: RegExp): string | undefined {
  for (const { text } of codeServerLogs(dirs)) {
    const line = text.split('\n').find((l) => pattern.test(l));
    if (line !== undefined) return line;
  }
  return undefined;
}

async function timed<T>(step: () => Promise<T>): Promise<[T, number]> {
  const started = Date.now();
  const value = await step();
  return [value, Date.now() - started];
}

/**
 * Give `user` the workspace and code-server's directories, and a copy of the VSIX (it may not be able to
 * read the one where it was built); returns that copy.
 */
function handOverSession(root: string, folder: string, dirs: CodeServerDirs, user: RunAs, vsix: string | undefined): string | undefined {
  makeTraversable(root);
  let copy: string | undefined;
  if (vsix !== undefined) {
    copy = join(dirs.tmp, basename(vsix));
    copyFileSync(vsix, copy);
  }
  for (const dir of [folder, dirs.extensions, dirs.userData, dirs.xdg, dirs.tmp, dirs.home]) handOver(dir, user);
  return copy;
}

/**
 * A fresh code-server with only the given VSIX installed, on a temporary workspace folder, shown in
 * headless Chromium. Everything it starts is stopped by dispose(), or by the exit handlers if the
 * test process ends first.
 */
export async function startSession(options: SessionOptions): Promise<Session> {
  const log = options.log ?? (() => undefined);
  const [toolchain, toolchainMs] = await timed(() => ensureToolchain(log));
  const root = makeTempDir('ebpf-studio-e2e-');
  const folder = join(root, 'workspace');
  for (const [path, text] of Object.entries(options.files)) {
    mkdirSync(dirname(join(folder, path)), { recursive: true });
    writeFileSync(join(folder, path), text);
  }
  await options.prepare?.(folder);
  const dirs = codeServerDirs(root);
  writeUserSettings(dirs, options.settings ?? {});
  for (const [path, source] of Object.entries(options.cachedFiles ?? {})) {
    const target = join(dirs.xdg, 'cache', path);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(source, target);
  }
  const { runAs } = options;
  const vsix = runAs ? handOverSession(root, folder, dirs, runAs, options.vsix) : options.vsix;
  let codeServer: CodeServer | undefined;
  let browser: HeadlessBrowser | undefined;
  let workbench: Workbench | undefined;

  const dispose = async (): Promise<void> => {
    try {
      await workbench?.screenshot('last').catch(() => undefined);
      await browser?.close();
      await codeServer?.stop();
      mkdirSync(ARTIFACTS_DIR, { recursive: true });
      writeFileSync(join(ARTIFACTS_DIR, `${options.name}.log`), codeServerLogs(dirs).map(({ path, text }) => `==> ${path} <==\n${text}`).join('\n'));
    } finally {
      removeTempDir(root);
    }
  };

  try {
    const [, installExtensionMs] = await timed(async () => (vsix === undefined ? undefined : installExtension(toolchain, dirs, vsix, runAs)));
    const [server, codeServerStartMs] = await timed(() => startCodeServer(toolchain, dirs, runAs));
    codeServer = server;
    browser = await openBrowser(toolchain.chromium, join(root, 'chromium'));
    const opened = new Workbench(browser.page, ARTIFACTS_DIR, options.name);
    workbench = opened;
    const loadedAt = Date.now();
    const [, workbenchMs] = await timed(() => opened.open(server.url, folder));
    return {
      workbench: opened,
      ui: new WorkbenchUi(opened.page),
      folder,
      loadedAt,
      timings: { toolchainMs, installExtensionMs, codeServerStartMs, workbenchMs },
      processes: () => processesWithEnv(instanceMark(dirs)),
      waitForLog: (pattern, timeoutMs = 30_000) => poll(() => findLog(dirs, pattern), timeoutMs, () => `no log line matching ${pattern} within ${timeoutMs} ms`),
      logLines: (pattern) => matchingLines(dirs, pattern),
      dispose,
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}
