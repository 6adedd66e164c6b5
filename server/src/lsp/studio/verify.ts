import type { CancellationToken } from 'vscode-jsonrpc';
import { explorerFromReport, type ExplorerData } from '../../explorer';
import { verdictMatrix, type TargetOutcome } from '../../engine/matrix';
import type { ExplorerDataParams, VerifyNowParams, VerifyNowResult, VerifyOnParams, VerifyOnResult } from '../studio-protocol';
import type { VerifyRequest } from '../document-verifier';
import { fail, openDocument, type StudioContext } from './context';

function requestOf(ctx: StudioContext, uri: string): VerifyRequest {
  const { doc, path } = openDocument(ctx, uri);
  return { uri, path, text: doc.getText(), version: doc.version };
}

/** Re-verify an open document now (no debounce, no cache); answers once its diagnostics are published. */
export async function verifyNow(ctx: StudioContext, params: VerifyNowParams): Promise<VerifyNowResult> {
  const outcome = await ctx.verifier.verifyNow(requestOf(ctx, params.uri));
  if (!outcome) fail(`${params.uri} was closed before its verification finished`);
  return 'error' in outcome ? { ok: false, error: outcome.error.message } : { ok: outcome.report.ok };
}

/** A one-off verdict matrix for `targets` (the setting's targets are left alone). */
export async function verifyOn(ctx: StudioContext, params: VerifyOnParams, token: CancellationToken): Promise<VerifyOnResult> {
  if (params.targets.length === 0) fail('name at least one target: "local" or a node');
  const request = requestOf(ctx, params.uri);
  const outcomes = await Promise.all(
    params.targets.map(async (node): Promise<TargetOutcome> => {
      try {
        const report = await ctx.engine.verifyRestarting(node, request, token);
        return { node, kernel: report.kernel ?? 'unknown', report };
      } catch (err) {
        return { node, error: (err as Error).message };
      }
    }),
  );
  const matrix = verdictMatrix(outcomes);
  return { programs: matrix.programs, unreachable: matrix.unreachable };
}

/** The Verifier Explorer's data: the document verified on the first target (or the no-local-kernel fallback node) with full (level-2) logs. */
export async function explorerData(ctx: StudioContext, params: ExplorerDataParams, token: CancellationToken): Promise<ExplorerData> {
  const request = requestOf(ctx, params.uri);
  const configured = ctx.settings().verifyTarget;
  let target = configured[0] ?? 'local';
  if (configured.length === 1 && target === 'local') {
    const chosen = await ctx.engine.defaultTarget(request.path);
    if (chosen.kind === 'fallback') target = chosen.node;
  }
  const report = await ctx.engine.verifyRestarting(target, request, token, 2);
  return explorerFromReport(report, request.text);
}
