import type { ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { effectiveHealth, readRunState, readStatus, type ServiceStatus } from '@ebpf-studio/server';
import { spawnInCgroup } from '../cgroups';
import { EXIT, UsageFailure } from '../exit-codes';
import { parseDurationMs } from '../options';
import { appliedPolicy, projectCommand } from '../run-state/project';
import { ProgramRejected, startRun, type RunningProject } from '../run-state/runner';
import { freshLine, since, statusTable } from '../run-state/status-view';
import { TARGET_OPTIONS } from '../target-options';

export const RUN_HELP = `usage: ebpf-studio run DIR [--node N] [--lease 10s] [--exec [--] CMD ARGS...]

Read DIR/ebpf-studio.yaml, create the programs' cgroups (below the cgroup2 mount, never the mount
itself), verify, load and attach every program in one session, write the policy into the maps and
probe the services that declare probe:. Each second with traffic it prints how that second's
connections were split per service and cluster, next to the policy's split; Ctrl-C (or the end of
CMD) detaches everything and removes the cgroups it created.
  --exec [--] CMD ARGS...  start CMD inside the cgroup (an argument array, never a shell); must come last
  --lease 10s              the node rolls everything back this long after the run stops heartbeating
  --node N                 load on a node (its cgroups must exist there; --exec is for this machine)
While it runs: ebpf-studio apply DIR, ebpf-studio status DIR, ebpf-studio health DIR SERVICE TARGET up|down
exit: 0 stopped (or CMD succeeded); 1 a program was rejected, or CMD failed; 2 could not run (bad
ebpf-studio.yaml: every problem as file:line:col, the cgroup2 root, no privileges ...)`;

const TICK_MS = 1000;
const CHILD_STOP_MS = 2000;

/** Splits `... --exec [--] CMD ARGS...`: everything after --exec is the command, untouched. */
function splitExec(argv: string[]): { own: string[]; exec?: string[] } {
  const at = argv.indexOf('--exec');
  if (at < 0) return { own: argv };
  const rest = argv.slice(at + 1);
  const exec = rest[0] === '--' ? rest.slice(1) : rest;
  if (exec.length === 0) throw new UsageFailure('--exec needs a command: ebpf-studio run DIR --exec -- CMD ARGS...');
  return { own: argv.slice(0, at), exec };
}

function waitForExit(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await Promise.race([waitForExit(child), new Promise((r) => setTimeout(r, CHILD_STOP_MS))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

async function statuses(running: RunningProject): Promise<ServiceStatus[]> {
  const state = readRunState(running.project.dir);
  if (!state?.policyMaps) return [];
  return readStatus(running.target.agent, state.session.id, appliedPolicy(state), effectiveHealth(state.health));
}

/** Once a second: per service, how the connects and datagrams of that second were split (when there were any). */
async function showSplit(running: RunningProject, previous: ServiceStatus[]): Promise<ServiceStatus[]> {
  const now = await statuses(running);
  const time = new Date().toISOString().slice(11, 19);
  for (const s of now) {
    const fresh = since(s, previous.find((p) => p.serviceId === s.serviceId));
    if (fresh.total + fresh.noBackend.connects + fresh.noBackend.datagrams > 0) console.log(`${time} ${freshLine(fresh)}`);
  }
  return now;
}

export async function runCommand(argv: string[]): Promise<number> {
  const { own, exec } = splitExec(argv);
  const { values, positionals } = parseArgs({
    args: own,
    allowPositionals: true,
    options: { lease: { type: 'string', default: '10s' }, ...TARGET_OPTIONS, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) {
    console.log(RUN_HELP);
    return EXIT.ok;
  }
  const dir = positionals[0];
  if (!dir || positionals.length > 1) throw new UsageFailure('run takes one project directory: ebpf-studio run DIR [--exec -- CMD ARGS...]');
  if (exec && values.node !== undefined) throw new UsageFailure('--exec starts CMD in a cgroup of this machine: it cannot go with --node');
  const leaseMs = parseDurationMs(values.lease, '--lease');

  let stopRequested = false;
  let interrupted = false;
  let wake: () => void = () => undefined;
  const onSignal = (): void => {
    stopRequested = true;
    interrupted = true;
    wake();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await projectCommand(async () => {
      let running: RunningProject;
      try {
        running = await startRun({ project: dir, target: values, leaseMs, log: (l) => console.log(l), warn: (t) => console.error(t) });
      } catch (err) {
        if (err instanceof ProgramRejected) return EXIT.rejected;
        throw err;
      }
      let child: ChildProcess | undefined;
      let childExit: number | null | undefined;
      try {
        if (exec) {
          if (!running.state.execCgroup) throw new UsageFailure('--exec needs a program that attaches to a cgroup');
          console.log(`exec in ${running.state.execCgroup}: ${exec.map((a) => JSON.stringify(a)).join(' ')}`);
          child = spawnInCgroup(running.state.execCgroup, exec[0]!, exec.slice(1));
          void waitForExit(child).then((code) => {
            childExit = code;
            stopRequested = true;
            wake();
          });
        }
        console.log(`live split once a second (when there is traffic); ${exec ? 'the run ends with the command (or Ctrl-C)' : 'Ctrl-C detaches and cleans up'}`);
        let last: ServiceStatus[] = [];
        while (!stopRequested) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, TICK_MS);
          });
          if (stopRequested) break;
          last = await showSplit(running, last);
        }
        // After a terminal's Ctrl-C the agent may be gone already (same process group): then there is no table.
        const final = await statuses(running).catch(() => []);
        if (final.length > 0) console.log(`counted while running:\n${statusTable(final)}`);
      } finally {
        if (child) await stopChild(child);
        const left = await running.stop();
        for (const l of left) console.error(`ebpf-studio: left behind: ${l}`);
        console.log('session closed: every program detached; the cgroups this run created are removed');
      }
      if (!interrupted && childExit !== undefined && childExit !== 0) {
        console.log(`the command exited with ${childExit ?? 'a signal'}`);
        return EXIT.rejected;
      }
      return EXIT.ok;
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
