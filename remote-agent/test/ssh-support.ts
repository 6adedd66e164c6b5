/** Shared by the ssh-*.test.ts files: the payload build, the node harness, and the server's engine. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentClient } from '../src/controller/agent-client';

export const REPO = join(__dirname, '..', '..', '..');

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
 * Builds dist/agent.js (the payload shipped to nodes) when it is missing. Test files run in parallel and
 * the bundler starts by emptying dist/, so one process builds while the others wait for it.
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

export interface EngineReport {
  ok: boolean;
  programs: { name: string; verdict: string }[];
  diagnostics: { code: string; line: number; column: number; severity: string; message: string }[];
}

export interface ServerEngine {
  verifySource(text: string, file: string, options: { agent: AgentClient; caps?: string; sets?: Record<string, string> }): Promise<EngineReport>;
}

/**
 * The server package's engine, loaded at run time: the server depends on remote-agent, so remote-agent's
 * tests cannot reference it at build time (a project-reference cycle). `npm run build` builds both.
 */
export function serverEngine(): ServerEngine {
  const entry = join(REPO, 'server', 'dist', 'src', 'index.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build the server first (npx tsc -b)`);
  return require(entry) as ServerEngine;
}
