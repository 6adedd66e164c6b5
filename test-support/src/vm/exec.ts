import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Append the command line and its output here; a failure then names this file. */
  logFile?: string;
  /**
   * Run inside new PID and mount namespaces (`unshare --mount --pid --kill-child`): when the command is
   * killed, everything it started dies with it, and what it mounted (debootstrap's /proc and /sys in the
   * chroot) goes away with the namespace instead of staying mounted on the machine.
   */
  contained?: boolean;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

const TAIL_CHARS = 2000;
const running = new Set<ChildProcess>();

/** The children `run` is waiting for: the exit hooks kill them so a build never outlives its process. */
export function runningChildren(): readonly ChildProcess[] {
  return [...running];
}

/**
 * Runs a command (argument array, no shell) to completion without blocking the event loop. The command
 * gets SIGKILL if this process dies first (`setpriv --pdeathsig`), so no build step outlives its test.
 */
export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const line = [cmd, ...args].join(' ');
  const started = Date.now();
  if (options.logFile !== undefined) appendFileSync(options.logFile, `\n$ ${line}\n`);
  return new Promise((resolve, reject) => {
    const contain = options.contained === true ? ['unshare', '--mount', '--propagation', 'private', '--pid', '--kill-child=SIGKILL'] : [];
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', ...contain, cmd, ...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      out.push(chunk);
      if (options.logFile !== undefined) appendFileSync(options.logFile, chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err.push(chunk);
      if (options.logFile !== undefined) appendFileSync(options.logFile, chunk);
    });
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', (error) => {
      running.delete(child);
      if (timer) clearTimeout(timer);
      reject(new Error(`${cmd}: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      running.delete(child);
      if (timer) clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (options.logFile !== undefined) appendFileSync(options.logFile, `# ${cmd}: ${signal ?? code} after ${Date.now() - started} ms\n`);
      if (code === 0) {
        resolve({ stdout, stderr });
        return;
      }
      const how = signal === null ? `exit code ${code}` : `signal ${signal}`;
      const where = options.logFile === undefined ? '' : ` (log: ${options.logFile})`;
      reject(new Error(`${line} failed with ${how}${where}\n${(stderr || stdout).slice(-TAIL_CHARS)}`));
    });
  });
}

/** True when `name` is an executable on PATH (or an absolute path to one). */
export async function haveCommand(name: string): Promise<boolean> {
  try {
    await run('sh', ['-c', 'command -v "$1"', 'sh', name]);
    return true;
  } catch {
    return false;
  }
}
