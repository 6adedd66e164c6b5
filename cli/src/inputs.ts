import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageFailure } from './exit-codes';

/** Directories never searched for programs: version control, dependencies. */
const SKIPPED = new Set(['node_modules']);

function bpfSourcesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.') || SKIPPED.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...bpfSourcesUnder(path));
    else if (entry.isFile() && entry.name.endsWith('.bpf.c')) found.push(path);
  }
  return found;
}

/**
 * The files to verify: each argument as given, a directory replaced by every `*.bpf.c` below it (sorted,
 * hidden directories and node_modules skipped). `many` says whether the result is a list even when it
 * holds one file (any directory, or several arguments), so --json keeps one shape for a pipeline.
 */
export function expandInputs(args: readonly string[]): { files: string[]; many: boolean } {
  let many = args.length > 1;
  const files = args.flatMap((arg) => {
    let isDirectory = false;
    try {
      isDirectory = statSync(arg).isDirectory();
    } catch {
      return [arg];
    }
    if (!isDirectory) return [arg];
    many = true;
    const sources = bpfSourcesUnder(arg);
    if (sources.length === 0) throw new UsageFailure(`no .bpf.c file under ${arg}: name BPF sources *.bpf.c, or pass the files`);
    return sources;
  });
  return { files, many };
}
