import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freeLoopbackPort } from '@ebpf-studio/test-support';
import { stopGroup, stopProcesses, trackGroup, trackProcesses } from './cleanup';
import type { Toolchain } from './install';
import { poll } from './poll';
import { setprivPrefix, type RunAs } from './run-as';

/** The directories one code-server instance owns (all inside the session's temporary directory). */
export interface CodeServerDirs {
  extensions: string;
  userData: string;
  xdg: string;
  /** TMPDIR of code-server and everything it starts (its IPC sockets land here). */
  tmp: string;
  /** HOME of a code-server run as another user (one run as the test process keeps the test's HOME). */
  home: string;
  log: string;
}

export function codeServerDirs(root: string): CodeServerDirs {
  const dirs = { extensions: join(root, 'extensions'), userData: join(root, 'user-data'), xdg: join(root, 'xdg'), tmp: join(root, 'tmp'), home: join(root, 'home'), log: join(root, 'code-server.log') };
  for (const dir of [dirs.extensions, dirs.userData, dirs.xdg, dirs.tmp, dirs.home]) mkdirSync(dir, { recursive: true });
  return dirs;
}

/** User settings that keep a fresh workbench quiet: no welcome page, tips, updates or telemetry. */
const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'chat.disableAIFeatures': true,
  'git.enabled': false,
};

export function writeUserSettings(dirs: CodeServerDirs, settings: Record<string, unknown>): void {
  const user = join(dirs.userData, 'User');
  mkdirSync(user, { recursive: true });
  writeFileSync(join(user, 'settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...settings }, null, 2));
}

function environment(dirs: CodeServerDirs, runAs: RunAs | undefined): NodeJS.ProcessEnv {
  // the test runner's NODE_OPTIONS are for Node 20, not code-server's Node 24
  const { NODE_OPTIONS: _nodeOptions, ...env } = process.env;
  return {
    ...env,
    XDG_CONFIG_HOME: join(dirs.xdg, 'config'),
    XDG_DATA_HOME: join(dirs.xdg, 'data'),
    XDG_CACHE_HOME: join(dirs.xdg, 'cache'),
    XDG_STATE_HOME: join(dirs.xdg, 'state'),
    TMPDIR: dirs.tmp,
    NODE_DISABLE_COMPILE_CACHE: '1',
    // a person's own HOME, not the test's (which that user could not read)
    ...(runAs ? { HOME: dirs.home } : {}),
  };
}

/** The environment entry every process of a code-server instance inherits (it, its extension host, what that starts). */
export function instanceMark(dirs: CodeServerDirs): string {
  return `TMPDIR=${dirs.tmp}`;
}

interface Spawned {
  pid: number;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Stop the group (and, run as another user, every process of the instance). */
  stop(graceMs?: number): Promise<void>;
}

/** Run code-server in its own process group (as `runAs` when given), output appended to dirs.log. */
function spawnGroup(toolchain: Toolchain, dirs: CodeServerDirs, args: string[], runAs: RunAs | undefined): Spawned {
  const out = openSync(dirs.log, 'a');
  const argv = [...(runAs ? setprivPrefix(runAs) : []), toolchain.node, toolchain.codeServerEntry, '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions, ...args];
  const child = spawn(argv[0]!, argv.slice(1), {
    detached: true, // setsid: code-server's helpers share its group, so one kill reaches them all
    stdio: ['ignore', out, out],
    env: environment(dirs, runAs),
  });
  closeSync(out);
  if (child.pid === undefined) throw new Error('code-server did not start');
  const pid = child.pid;
  trackGroup(pid);
  // another user's processes may leave the group (a detached local agent): the environment finds them
  if (runAs) trackProcesses(instanceMark(dirs));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    pid,
    exited,
    stop: async (graceMs) => {
      await stopGroup(pid, graceMs);
      if (runAs) stopProcesses(instanceMark(dirs));
    },
  };
}

/** Install a VSIX into dirs.extensions (as `runAs` when given: it must be able to read the file). */
export async function installExtension(toolchain: Toolchain, dirs: CodeServerDirs, vsix: string, runAs?: RunAs): Promise<void> {
  const { exited, stop } = spawnGroup(toolchain, dirs, ['--install-extension', vsix], runAs);
  const code = await exited;
  await stop(0);
  if (code !== 0) throw new Error(`code-server --install-extension ${vsix} failed (exit ${code}):\n${readFileSync(dirs.log, 'utf8').slice(-3000)}`);
}

export interface CodeServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Start code-server on 127.0.0.1 and a free port, without auth, telemetry or update checks (as `runAs`
 * when given: dirs must be its); resolves once /healthz answers.
 */
export async function startCodeServer(toolchain: Toolchain, dirs: CodeServerDirs, runAs?: RunAs, timeoutMs = 30_000): Promise<CodeServer> {
  const port = await freeLoopbackPort();
  const { pid, exited, stop } = spawnGroup(toolchain, dirs, [
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
  ], runAs);
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const url = `http://127.0.0.1:${port}`;
  const healthy = async (): Promise<true | undefined> => {
    if (exitCode !== undefined) throw new Error(`code-server exited (${exitCode}) during start-up:\n${readFileSync(dirs.log, 'utf8').slice(-3000)}`);
    return (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) || undefined;
  };
  try {
    await poll(healthy, timeoutMs, () => `code-server did not answer on ${url} within ${timeoutMs} ms`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, pid, stop };
}

/** Every log file code-server and its extension host wrote (the extension's output channel included), newest last. */
export function codeServerLogs(dirs: CodeServerDirs): { path: string; text: string }[] {
  const found: { path: string; text: string; mtime: number }[] = [];
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.log')) found.push({ path, text: readFileSync(path, 'utf8'), mtime: statSync(path).mtimeMs });
    }
  };
  walk(join(dirs.userData, 'logs'));
  if (existsSync(dirs.log)) found.push({ path: dirs.log, text: readFileSync(dirs.log, 'utf8'), mtime: Number.MAX_SAFE_INTEGER });
  return found.sort((a, b) => a.mtime - b.mtime).map(({ path, text }) => ({ path, text }));
}
