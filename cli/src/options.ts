import type { VmlinuxMode } from '@ebpf-studio/server';
import { UsageFailure } from './exit-codes';

/** --set NAME=VALUE (repeatable) → { NAME: VALUE } */
export function parseSets(values: readonly string[]): Record<string, string> {
  const sets: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new UsageFailure(`--set ${v}: expected NAME=VALUE`);
    sets[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return sets;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** '15s', '500ms', '2m' or a bare number of milliseconds. */
export function parseDurationMs(text: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new UsageFailure(`${option} ${text}: expected a duration such as 15s, 500ms or 2m`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!);
}

/** --vmlinux: always; --no-vmlinux: never; neither: when the source includes vmlinux.h (and this kernel has BTF). */
function vmlinuxMode(values: CompileValues): VmlinuxMode {
  if (values.vmlinux && values['no-vmlinux']) throw new UsageFailure('--vmlinux and --no-vmlinux contradict each other: give one');
  return values.vmlinux ? 'on' : values['no-vmlinux'] ? 'off' : 'auto';
}

/** The compile and load options `verify` and `explore` share (parseArgs format). */
export const COMPILE_OPTIONS = {
  set: { type: 'string' as const, multiple: true as const, default: [] as string[] },
  caps: { type: 'string' as const },
  clang: { type: 'string' as const },
  include: { type: 'string' as const, short: 'I', multiple: true as const, default: [] as string[] },
  define: { type: 'string' as const, short: 'D', multiple: true as const, default: [] as string[] },
  cflag: { type: 'string' as const, multiple: true as const, default: [] as string[] },
  vmlinux: { type: 'boolean' as const, default: false },
  'no-vmlinux': { type: 'boolean' as const, default: false },
};

export interface CompileValues {
  set: string[];
  caps?: string | undefined;
  clang?: string | undefined;
  include: string[];
  define: string[];
  cflag: string[];
  vmlinux: boolean;
  'no-vmlinux': boolean;
}

/** COMPILE_OPTIONS' values as the engine's verify options (without the agent). */
export function compileOptionsFrom(values: CompileValues): { sets: Record<string, string>; caps?: string; clang?: string; includePaths: string[]; defines: string[]; flags: string[]; vmlinux: VmlinuxMode } {
  return {
    sets: parseSets(values.set),
    ...(values.caps ? { caps: values.caps } : {}),
    ...(values.clang ? { clang: values.clang } : {}),
    includePaths: values.include,
    defines: values.define,
    flags: values.cflag,
    vmlinux: vmlinuxMode(values),
  };
}
