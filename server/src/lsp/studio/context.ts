import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentClient } from '@ebpf-studio/remote-agent';
import { LSPErrorCodes, ResponseError, type Connection, type TextDocuments } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { UsageError } from '../../engine/usage-error';
import type { DocumentVerifier } from '../document-verifier';
import type { EngineVerifier } from '../engine-verifier';
import type { StudioSettings } from '../settings';
import type { TargetWait, VerifyTarget } from '../verify-targets';

/** What the studio requests share with the rest of the language server. */
export interface StudioContext {
  readonly connection: Connection;
  readonly documents: TextDocuments<TextDocument>;
  readonly engine: EngineVerifier;
  readonly verifier: DocumentVerifier;
  settings(): StudioSettings;
  /** The first workspace folder (absolute path), where the inventory is looked for upwards. */
  workspaceFolder(): string | undefined;
}

/** A request failure whose message the client shows as is. */
export function fail(message: string): never {
  throw new ResponseError(LSPErrorCodes.RequestFailed, message);
}

/**
 * Runs a request handler whose UsageErrors (what server/src/project/ throws for a request that cannot be:
 * no running run, a folder that is not empty, a held lock) become failures shown as is, as `fail`'s are.
 */
export async function failingAsIs<T>(handler: () => T | Promise<T>): Promise<T> {
  try {
    return await handler();
  } catch (err) {
    if (err instanceof UsageError) fail(err.message);
    throw err;
  }
}

/** The engine's warm target for `node` ('local' or a node name); `inventory` overrides the setting (a run's own). */
export function targetOf(ctx: StudioContext, node: string, inventory?: string, sshConfig?: string): VerifyTarget {
  const s = ctx.settings();
  const near = join(ctx.workspaceFolder() ?? process.cwd(), 'ebpf-studio.yaml');
  return ctx.engine.targets.get(node, near, { inventory: inventory ?? s.inventory, sshConfig: sshConfig ?? s.sshConfig });
}

/**
 * The agent of `node`, through the engine's warm targets: one SSH connection per node serves
 * verification, sessions, maps and traces.
 */
export function agentOf(ctx: StudioContext, node: string, wait?: TargetWait): Promise<AgentClient> {
  return targetOf(ctx, node).agent(wait);
}

/** An open document with its file path, or a failure naming what is missing. */
export function openDocument(ctx: StudioContext, uri: string): { doc: TextDocument; path: string } {
  const doc = ctx.documents.get(uri);
  if (!doc) fail(`${uri} is not open in the editor`);
  if (!uri.startsWith('file:')) fail(`${uri} is not a file on disk`);
  return { doc, path: fileURLToPath(uri) };
}
