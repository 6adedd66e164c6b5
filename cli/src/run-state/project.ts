import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { HealthTargetError, parsePolicy, PolicyError, type Policy, type PolicyProblem, type RunState } from '@ebpf-studio/server';
import { EXIT } from '../exit-codes';
import { displayPath } from '../format';

/** A project directory: its ebpf-studio.yaml, read and checked (docs/policy.md). */

const POLICY_FILE = 'ebpf-studio.yaml';

export interface Project {
  /** Absolute. */
  readonly dir: string;
  readonly path: string;
  readonly text: string;
  readonly policy: Policy;
}

function problemLines(path: string, problems: readonly PolicyProblem[], severity: 'error' | 'warning'): string {
  return problems.map((p) => `${displayPath(path)}:${p.line}:${p.col}: ${severity}: ${p.message}`).join('\n');
}

/** Reads `<dir>/ebpf-studio.yaml`; throws PolicyError (every problem, positioned); warnings go to `warn`. */
export function loadProject(dir: string, warn: (text: string) => void): Project {
  const abs = resolve(dir);
  const path = resolve(abs, POLICY_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new PolicyError(path, [{ line: 1, col: 1, message: `cannot read the file (${code}): a project has one; ebpf-studio new TEMPLATE DIR scaffolds it` }]);
  }
  const policy = parsePolicy(text, path);
  if (policy.warnings.length > 0) warn(problemLines(path, policy.warnings, 'warning'));
  return { dir: abs, path, text, policy };
}

/** The policy the run applies now (as last written by `run` or `apply`). */
export function appliedPolicy(state: RunState): Policy {
  return parsePolicy(state.policyText, state.policyPath);
}

/** Runs a project command: a bad policy file or health target is printed (positioned) and exits 2. */
export async function projectCommand(fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof PolicyError) {
      console.error(problemLines(err.path, err.problems, 'error'));
      return EXIT.couldNotRun;
    }
    if (err instanceof HealthTargetError) {
      console.error(`ebpf-studio: ${err.message}`);
      return EXIT.couldNotRun;
    }
    throw err;
  }
}
