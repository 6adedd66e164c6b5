import { readdirSync, readFileSync } from 'node:fs';

/** A process as /proc shows it: who it runs as and what it may do. */
export interface ProcessEntry {
  pid: number;
  uid: number;
  /** Effective capabilities (hex, as /proc/PID/status prints them). */
  capEff: string;
  command: string;
}

function entryOf(pid: number): ProcessEntry | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
    const capEff = /^CapEff:\s+([0-9a-f]+)/m.exec(status)?.[1] ?? '';
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
    return { pid, uid, capEff, command };
  } catch {
    return undefined; // it ended meanwhile
  }
}

/** Every process whose environment holds `variable` (e.g. `TMPDIR=/tmp/x`): a session's processes, whatever group they moved to. */
export function processesWithEnv(variable: string): ProcessEntry[] {
  const found: ProcessEntry[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
    } catch {
      continue;
    }
    if (!environ.split('\0').includes(variable)) continue;
    const entry = entryOf(pid);
    if (entry) found.push(entry);
  }
  return found;
}

/** SIGKILL every process whose environment holds `variable`. */
export function killProcessesWithEnv(variable: string): void {
  for (const { pid } of processesWithEnv(variable)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}
