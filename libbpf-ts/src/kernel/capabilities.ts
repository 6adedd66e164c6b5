import { readFileSync } from 'node:fs';
import { BpfError } from '../errors';
import { native } from './native';

/** Linux capability numbers (linux/capability.h) for the names users may give. */
export const CAPABILITIES: Readonly<Record<string, number>> = {
  net_admin: 12,
  net_raw: 13,
  ipc_lock: 14,
  sys_admin: 21,
  sys_resource: 24,
  perfmon: 38,
  bpf: 39,
  checkpoint_restore: 40,
};

const LINUX_CAPABILITY_VERSION_3 = 0x20080522;
const PR_CAPBSET_DROP = 24;
const LAST_CAP = 63;

export function parseCapabilityList(list: string): number[] {
  return list
    .split(',')
    .map((s) => s.trim().toLowerCase().replace(/^cap_/, ''))
    .filter((s) => s !== '')
    .map((name) => {
      const cap = CAPABILITIES[name];
      if (cap === undefined) {
        throw new BpfError(`unknown capability '${name}'`, `use some of: ${Object.keys(CAPABILITIES).join(', ')}`);
      }
      return cap;
    });
}

/**
 * Reduce this process to exactly the given capabilities (effective = permitted, nothing inheritable,
 * bounding set trimmed), so the verifier judges programs as a loader holding only those would see them.
 * Irreversible for the process: call it in a worker.
 */
export function restrictCapabilities(caps: readonly number[]): void {
  const n = native();
  for (let cap = 0; cap <= LAST_CAP; cap++) {
    if (!caps.includes(cap)) n.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
  }
  const words = [0, 0];
  for (const cap of caps) words[cap >> 5]! |= 1 << (cap & 31);
  const header = new Uint32Array([LINUX_CAPABILITY_VERSION_3, 0]);
  const data = new Uint32Array([words[0]! >>> 0, words[0]! >>> 0, 0, words[1]! >>> 0, words[1]! >>> 0, 0]);
  if (n.capset(header, data) !== 0) {
    const errno = n.koffi.errno();
    throw new BpfError(`capset failed: ${n.strerror(errno)}`, 'run the verifier as root to emulate a reduced-capability loader', errno);
  }
}

/**
 * The effective capabilities of the calling thread (capset acts per thread, and a verify worker reduces
 * its own), as capability numbers.
 */
export function effectiveCapabilities(): Set<number> {
  const status = readFileSync('/proc/thread-self/status', 'utf8');
  const mask = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '0'}`);
  const caps = new Set<number>();
  for (let cap = 0; cap <= LAST_CAP; cap++) if ((mask >> BigInt(cap)) & 1n) caps.add(cap);
  return caps;
}

/** The names of capabilities as a user writes them: [12, 39] → "CAP_NET_ADMIN, CAP_BPF". */
export function capabilityNames(caps: Iterable<number>): string {
  const names = new Map(Object.entries(CAPABILITIES).map(([name, cap]) => [cap, `CAP_${name.toUpperCase()}`]));
  return [...caps].map((cap) => names.get(cap) ?? `capability ${cap}`).join(', ');
}
