import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import type { VerifyReport } from '../engine/types';

const MAX_ENTRIES = 64;

function headerFingerprint(paths: readonly string[]): string {
  return paths
    .map((p) => {
      try {
        const s = statSync(p);
        return `${p}:${s.size}:${s.mtimeMs}`;
      } catch {
        return `${p}:missing`;
      }
    })
    .join('|');
}

/**
 * Reports keyed by everything that decides them: the text, the file's path (quoted includes resolve
 * from its directory, diagnostics name it), the settings (flags, includes, defines,
 * --set values, capability mode, clang), the target (kernel, libbpf) and the state of every header the
 * text included last time. A hit costs a hash and a few stat calls.
 */
export class VerificationCache {
  private readonly entries = new Map<string, { report: VerifyReport; deps: string[]; headers: string }>();

  private baseKey(text: string, context: string): string {
    return createHash('sha256').update(context).update('\0').update(text).digest('hex');
  }

  get(text: string, context: string): VerifyReport | undefined {
    const key = this.baseKey(text, context);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (headerFingerprint(entry.deps) !== entry.headers) {
      this.entries.delete(key);
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.report;
  }

  set(text: string, context: string, report: VerifyReport): void {
    const key = this.baseKey(text, context);
    this.entries.delete(key);
    this.entries.set(key, { report, deps: report.dependencies, headers: headerFingerprint(report.dependencies) });
    while (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }
}
