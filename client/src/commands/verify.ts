import { StudioMethods, type MatrixCell, type VerifyNowParams, type VerifyNowResult, type VerifyOnParams, type VerifyOnResult } from '@ebpf-studio/studio-protocol';
import { commands, ProgressLocation, window, type QuickPickItem } from 'vscode';
import { activeBpfDocument } from '../bpf-document';
import { pickNodes } from '../node-picker';
import type { Studio } from '../studio';

/** Re-verify the active file now (no debounce, no cache). */
export async function verifyNow(studio: Studio): Promise<VerifyNowResult | undefined> {
  const document = activeBpfDocument('verify it');
  if (!document) return undefined;
  const params: VerifyNowParams = { uri: document.uri.toString() };
  const result = await studio.withRetry(`Verifying ${document.fileName}`, () =>
    window.withProgress({ location: ProgressLocation.Window, title: 'eBPF: verifying' }, (_p, token) => studio.request<VerifyNowResult>(StudioMethods.verifyNow, params, token)),
  );
  if (result?.error) void window.showErrorMessage(`Could not verify: ${result.error}`);
  return result;
}

const cellText = (node: string, cell: MatrixCell): string =>
  `${cell.verdict === 'accepted' ? '✓' : cell.verdict === 'rejected' ? '✗' : '–'} ${node} ${cell.kernel}${cell.code ? ` ${cell.code}` : ''}`;

interface ProgramItem extends QuickPickItem {
  program?: string;
}

/** The verdicts, one row per program with every node's kernel side by side; unreachable nodes listed last. */
function matrixItems(result: VerifyOnResult): ProgramItem[] {
  const rows: ProgramItem[] = result.programs.map((p) => {
    const cells = Object.entries(p.verdicts);
    const ok = cells.every(([, c]) => c.verdict === 'accepted');
    return {
      program: p.name,
      label: `${ok ? '$(pass)' : '$(error)'} ${p.name}`,
      description: p.section,
      detail: cells.map(([node, cell]) => cellText(node, cell)).join('   ·   '),
    };
  });
  const unreachable = result.unreachable.map((u) => ({ label: `$(debug-disconnect) ${u.node}`, description: 'unreachable', detail: u.error }));
  return [...rows, ...unreachable];
}

/** Pick nodes, verify the active file on each of their kernels, and show the verdicts side by side. */
export async function verifyOnNode(studio: Studio): Promise<void> {
  const document = activeBpfDocument('verify it on nodes');
  if (!document) return;
  const targets = await pickNodes(studio, `Verify ${document.fileName.replace(/^.*\//, '')} on…`);
  if (!targets) return;
  const params: VerifyOnParams = { uri: document.uri.toString(), targets };
  const run = (): PromiseLike<VerifyOnResult> =>
    window.withProgress({ location: ProgressLocation.Notification, title: `Verifying on ${targets.join(', ')}`, cancellable: true }, (progress, token) =>
      studio.requestWithProgress<VerifyOnResult>(StudioMethods.verifyOn, params, progress, token),
    );
  const result = await studio.withRetry(`Verifying on ${targets.join(', ')}`, run);
  if (!result) return;
  for (const u of result.unreachable) {
    void window.showErrorMessage(`Node ${u.node} cannot be reached: ${u.error}`, 'Retry').then((c) => c === 'Retry' && commands.executeCommand('ebpfStudio.verifyOnNode'));
  }
  const picked = await window.showQuickPick(matrixItems(result), {
    title: `Verdicts of ${document.fileName.replace(/^.*\//, '')} per kernel`,
    placeHolder: 'pick a program to see its verifier log',
    matchOnDetail: true,
  });
  if (picked?.program) await commands.executeCommand('ebpfStudio.openVerifierLog', document.uri, picked.program);
}
