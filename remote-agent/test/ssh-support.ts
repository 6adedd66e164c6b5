/** Shared by the ssh-*.test.ts files: the repository's root and the server's engine. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentClient } from '../src/controller/agent-client';

export const REPO = join(__dirname, '..', '..', '..');

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
