import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import type { AttachRecord } from '@ebpf-studio/libbpf-ts';

/** Something a session changed that does not vanish with its process (a tc filter, a prog_attach), and how to undo it. */
export type JournalEntry = { kind: 'undo'; attachment: string; record: AttachRecord } | { kind: 'done'; attachment: string };

/**
 * Journal of a session: an 'undo' entry is appended as soon as a change that outlives the process is
 * made, and a 'done' entry once it is undone, so a session that dies can be rolled back by whoever
 * finds it (the next agent that lists sessions on the node).
 */
export class Journal {
  constructor(readonly path: string) {}

  record(entry: JournalEntry): void {
    appendFileSync(this.path, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
  }

  /** Entries not yet undone, newest first (the order to undo them in). */
  pending(): Exclude<JournalEntry, { kind: 'done' }>[] {
    if (!existsSync(this.path)) return [];
    const entries = readFileSync(this.path, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .flatMap((l): JournalEntry[] => {
        try {
          return [JSON.parse(l) as JournalEntry];
        } catch {
          return [];
        }
      });
    const done = new Set(entries.filter((e) => e.kind === 'done').map((e) => e.attachment));
    return entries.filter((e): e is Exclude<JournalEntry, { kind: 'done' }> => e.kind !== 'done' && !done.has(e.attachment)).reverse();
  }

  remove(): void {
    rmSync(this.path, { force: true });
  }
}
