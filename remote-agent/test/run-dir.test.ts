import assert from 'node:assert/strict';
import { readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '@ebpf-studio/test-support';
import { pruneSessionLogs } from '../src/agent/session/run-dir';

const id = (n: number): string => n.toString(16).padStart(16, '0');

test("the run directory keeps the newest logs of ended sessions and every live session's log", () => {
  const dir = tempDir('ebpf-studio-run-');
  const previous = process.env['EBPF_STUDIO_RUN_DIR'];
  process.env['EBPF_STUDIO_RUN_DIR'] = dir;
  try {
    const now = Date.now() / 1000;
    // 30 ended sessions, session n ended n minutes ago; the two oldest are still live (socket / journal)
    for (let n = 0; n < 30; n++) {
      const log = join(dir, `${id(n)}.log`);
      writeFileSync(log, `session ${id(n)} ended: closed by its owner\n`);
      utimesSync(log, now - n * 60, now - n * 60);
    }
    writeFileSync(join(dir, `${id(29)}.sock`), '');
    writeFileSync(join(dir, `${id(28)}.journal`), '');
    writeFileSync(join(dir, 'notes.log'), 'not a session log');

    assert.equal(pruneSessionLogs(20), 8, 'the 8 oldest ended sessions (20..27) go');
    const logs = readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
    const expected = [...Array.from({ length: 20 }, (_, n) => `${id(n)}.log`), `${id(28)}.log`, `${id(29)}.log`, 'notes.log'].sort();
    assert.deepEqual(logs, expected);
    assert.equal(pruneSessionLogs(20), 0, 'nothing more to remove');
  } finally {
    if (previous === undefined) delete process.env['EBPF_STUDIO_RUN_DIR'];
    else process.env['EBPF_STUDIO_RUN_DIR'] = previous;
  }
});
