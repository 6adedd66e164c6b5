import type { CancellationToken } from 'vscode-jsonrpc';
import { explorerFromReport, type ExplorerData } from '../../explorer';
import { verdictMatrix, type TargetOutcome } from '../../engine/matrix';
import type { ExplorerDataParams, VerifyNowParams, VerifyNowResult, VerifyOnParams, VerifyOnResult } from '../studio-protocol';
import type { VerifyRequest } from '../document-verifier';
import { answeringCancel } from '../cancellation';
import { fail, openDocument, type StudioContext } from './context';
import { RequestProgress } from './progress';

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

/**
 * A one-off verdict matrix for `targets` (the setting's targets are left alone). What each target is
 * doing (connecting, uploading, verifying) goes to the request's work-done progress; cancelling the
 * request stops connecting and bootstrapping that no one else waits for, and answers it as cancelled.
 */
export async function verifyOn(ctx: StudioContext, params: VerifyOnParams, token: CancellationToken): Promise<VerifyOnResult> {
  if (params.targets.length === 0) fail('name at least one target: "local" or a node');
  const request = requestOf(ctx, params.uri);
  const progress = new RequestProgress(ctx.connection, params.workDoneToken, `Verifying on ${params.targets.join(', ')}`);
  return await answeringCancel(token, async (signal) => {
    const outcomes = await Promise.all(
      params.targets.map(async (node): Promise<TargetOutcome> => {
        try {
          const report = await ctx.engine.verifyRestarting(node, request, token, { wait: { signal, onProgress: progress.of(node, params.targets.length > 1) } });
          return { node, kernel: report.kernel ?? 'unknown', report };
        } catch (err) {
          return { node, error: (err as Error).message };
        }
      }),
    );
    const matrix = verdictMatrix(outcomes);
    return { programs: matrix.programs, unreachable: matrix.unreachable };
  }).finally(() => progress.done());
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
  const report = await answeringCancel(token, (signal) => ctx.engine.verifyRestarting(target, request, token, { logLevel: 2, wait: { signal } }));
  return explorerFromReport(report, request.text);
}
