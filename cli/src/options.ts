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
