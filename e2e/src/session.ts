import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openBrowser, type HeadlessBrowser } from './browser';
import { makeTempDir, removeTempDir } from './cleanup';
import { codeServerDirs, codeServerLogs, installExtension, startCodeServer, writeUserSettings, type CodeServer, type CodeServerDirs } from './code-server';
import { ensureToolchain } from './install';
import { poll } from './poll';
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
  /** Resolves with the first line of code-server's logs (extension host and output channels included) that matches. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Screenshot the last state, stop the browser and code-server (whole process groups), save the logs to ARTIFACTS_DIR, remove the temporary files. */
  dispose(): Promise<void>;
}

/** The time (epoch ms) a VS Code log line was written: its `YYYY-MM-DD hh:mm:ss.mmm` prefix, local time. */
export function logLineTime(line: string): number {
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3})/.exec(line);
  if (!m) throw new Error(`not a timestamped log line: ${line}`);
  return new Date(`${m[1]}T${m[2]}`).getTime();
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
  const dirs = codeServerDirs(root);
  writeUserSettings(dirs, options.settings ?? {});
  for (const [path, source] of Object.entries(options.cachedFiles ?? {})) {
    const target = join(dirs.xdg, 'cache', path);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(source, target);
  }
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
    const { vsix } = options;
    const [, installExtensionMs] = await timed(async () => (vsix === undefined ? undefined : installExtension(toolchain, dirs, vsix)));
    const [server, codeServerStartMs] = await timed(() => startCodeServer(toolchain, dirs));
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
      waitForLog: (pattern, timeoutMs = 30_000) => poll(() => findLog(dirs, pattern), timeoutMs, () => `no log line matching ${pattern} within ${timeoutMs} ms`),
      dispose,
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}
