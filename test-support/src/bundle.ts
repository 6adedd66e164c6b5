import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..', '..');
const BUNDLE_LOCK = join(tmpdir(), 'ebpf-studio-bundle.lock');

function lockHolderAlive(): boolean {
  try {
    process.kill(Number(readFileSync(join(BUNDLE_LOCK, 'pid'), 'utf8')), 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Builds the bundle in dist/ (the CLI, and the agent payload shipped to nodes) when it is missing; setup.sh
 * builds it before the tests. Test files run in parallel: one builds while the others wait, and none
 * rebuilds a dist/ that another file's processes run from.
 */
export async function ensurePayloadBuilt(): Promise<void> {
  const agent = join(REPO, 'dist', 'agent.js');
  for (;;) {
    if (existsSync(agent)) return;
    try {
      mkdirSync(BUNDLE_LOCK);
    } catch {
      if (!lockHolderAlive()) rmSync(BUNDLE_LOCK, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    try {
      writeFileSync(join(BUNDLE_LOCK, 'pid'), String(process.pid));
      if (!existsSync(agent)) execFileSync(process.execPath, [join(REPO, 'scripts', 'bundle.js')], { cwd: REPO, stdio: 'inherit' });
    } finally {
      rmSync(BUNDLE_LOCK, { recursive: true, force: true });
    }
  }
}
