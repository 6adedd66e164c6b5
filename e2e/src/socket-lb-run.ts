import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CGROUP_ROOT, destroyCgroup, onProcessExit } from '@ebpf-studio/test-support';
import { poll } from './poll';
import { REPO_ROOT } from './vsix';

/**
 * What a person does in a terminal beside VS Code for a clusterset-socket-lb project: `ebpf-studio new`,
 * the template's fixture backends on 127.0.0.1, and `ebpf-studio run DIR --exec -- <client driver>`,
 * whose client connects from inside the run's cgroup whenever the test asks. Everything started here
 * is stopped by the returned handles, or at process exit.
 */

export const CLI = join(REPO_ROOT, 'cli', 'bin', 'ebpf-studio.js');
const FIXTURES = join(REPO_ROOT, 'bpf-templates', 'clusterset-socket-lb', 'fixtures');

/** A per-run cgroup directly below the cgroup2 mount, named as test-support's sweep expects (`ebst-<tag>-<pid>-<n>`). */
export function runCgroup(tag: string): { name: string; path: string } {
  const name = `ebst-${tag}-${process.pid}-1`;
  return { name, path: join(CGROUP_ROOT, name) };
}

/** `ebpf-studio new clusterset-socket-lb DIR`, the real CLI. */
export function scaffoldSocketLb(dir: string): void {
  const r = spawnSync(process.execPath, [CLI, 'new', 'clusterset-socket-lb', dir], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`ebpf-studio new failed (${r.status}): ${r.stdout}${r.stderr}`);
}

/** A child process's output (stdout and stderr) as it comes, with a wait for the next line that matches. */
class Output {
  private text = '';
  private consumed = 0;

  constructor(private readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (this.text += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (this.text += s));
  }

  all(): string {
    return this.text;
  }

  /** The next whole line (after the last one returned) that matches. */
  next(match: RegExp, timeoutMs = 60_000): Promise<string> {
    return poll(
      () => {
        const rest = this.text.slice(this.consumed);
        const lines = rest.split('\n').slice(0, -1);
        const found = lines.find((l) => match.test(l));
        if (found !== undefined) {
          this.consumed += rest.indexOf(found) + found.length;
          return found;
        }
        if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`exited (${this.child.exitCode ?? this.child.signalCode}) before printing ${match}:\n${this.text}`);
        return undefined;
      },
      timeoutMs,
      () => `nothing matching ${match} within ${timeoutMs} ms:\n${this.text.slice(-4000)}`,
      20,
    );
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', resolve));
}

/** SIGINT (what Ctrl-C sends: the run cleans up), SIGKILL after graceMs. */
async function interrupt(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}

export interface Backends {
  /** Each name's TCP port on 127.0.0.1. */
  ports: Record<string, number>;
  stop(): void;
}

/** The template's fixture backends on 127.0.0.1 (ephemeral ports): each answers every connection with its name. */
export async function startBackends(names: readonly string[]): Promise<Backends> {
  const child = spawn(process.execPath, [join(FIXTURES, 'backends.js'), '127.0.0.1', ...names], { stdio: ['pipe', 'pipe', 'pipe'] });
  const forget = onProcessExit(() => child.kill('SIGKILL'));
  const stop = (): void => {
    child.kill();
    forget();
  };
  try {
    const ports = JSON.parse(await new Output(child).next(/^\{/, 10_000)) as Record<string, { tcp: number }>;
    return { ports: Object.fromEntries(Object.entries(ports).map(([n, p]) => [n, p.tcp])), stop };
  } catch (err) {
    stop();
    throw err;
  }
}

/** What the fixture client saw: connections per backend name, failures per error code. */
export interface Drive {
  names: Record<string, number>;
  errors: Record<string, number>;
}

export interface DrivenRun {
  /** The run's session id, as it printed it. */
  session: string;
  /** `count` TCP connects to host:port from inside the run's cgroup; resolves with what the client saw. */
  drive(host: string, port: number, count: number): Promise<Drive>;
  /** Everything the run printed so far. */
  output(): string;
  /** End the client driver (its stdin closes): the run then stops by itself; resolves with its exit code. */
  end(timeoutMs?: number): Promise<number | null>;
  /** Ctrl-C if it still runs (for clean-up). */
  interrupt(): Promise<void>;
}

/**
 * `ebpf-studio run DIR --lease 3s --exec -- node driver.js`: the driver (inside the run's cgroup) reads
 * lines "HOST PORT COUNT" from the run's stdin and starts the fixture client for each.
 */
export async function startDrivenRun(dir: string, cgroupPath: string): Promise<DrivenRun> {
  const driver = join(dir, 'driver.js');
  writeFileSync(
    driver,
    [
      "const { spawn } = require('node:child_process');",
      "console.log('driver ready');",
      "require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {",
      "  const [host, port, count] = line.split(' ');",
      `  spawn(process.execPath, [${JSON.stringify(join(FIXTURES, 'client.js'))}, 'tcp', host, port, count], { stdio: ['ignore', 'inherit', 'inherit'] });`,
      '});',
      '',
    ].join('\n'),
  );
  const run = spawn(process.execPath, [CLI, 'run', dir, '--lease', '3s', '--exec', '--', process.execPath, driver], { stdio: ['pipe', 'pipe', 'pipe'] });
  const forget = onProcessExit(() => {
    run.kill('SIGINT');
    destroyCgroup(cgroupPath);
  });
  const out = new Output(run);
  try {
    const session = /running: session ([0-9a-f]+)/.exec(await out.next(/^running: session [0-9a-f]+ /, 120_000))![1]!;
    await out.next(/^driver ready$/, 30_000);
    return {
      session,
      output: () => out.all(),
      async drive(host, port, count) {
        run.stdin!.write(`${host} ${port} ${count}\n`);
        return JSON.parse(await out.next(/^\{"names"/, 60_000)) as Drive;
      },
      async end(timeoutMs = 30_000) {
        run.stdin!.end();
        const code = await Promise.race([exited(run), new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref())]);
        if (code === 'timeout') throw new Error(`the run did not stop within ${timeoutMs} ms of its command's end:\n${out.all().slice(-4000)}`);
        forget();
        return code;
      },
      async interrupt() {
        await interrupt(run);
        destroyCgroup(cgroupPath);
        forget();
      },
    };
  } catch (err) {
    await interrupt(run);
    destroyCgroup(cgroupPath);
    forget();
    throw err;
  }
}
