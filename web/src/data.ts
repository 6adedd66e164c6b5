/**
 * The page's input: plain data from `ebpf-studio explore` (GET api/explorer) or, inside a VS Code
 * webview, from the extension (a `{ type: 'explorer-data', data }` message after the page posted
 * `{ type: 'explorer-ready' }`). The types are the server's own (server/src/explorer/types.ts, type-only: nothing of
 * the server's code reaches the page).
 */

import type { ExplorerData } from '../../server/src/explorer/types';

export type { ExplorerData, ExplorerDiagnostic, ExplorerInstruction, ExplorerProgram, SourceAnnotation } from '../../server/src/explorer/types';

interface VsCodeApi {
  postMessage(message: unknown): void;
}

declare global {
  // Defined by VS Code inside a webview (callable once).
  var acquireVsCodeApi: (() => VsCodeApi) | undefined;
}

function isExplorerData(value: unknown): value is ExplorerData {
  const data = value as Partial<ExplorerData> | null;
  return typeof data === 'object' && data !== null && typeof data.file === 'string' && Array.isArray(data.programs);
}

/** Calls `onData` with each data set that arrives (a webview may post a new one after a re-verify). */
export function receiveData(onData: (data: ExplorerData) => void, onError: (message: string) => void): void {
  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    const message = event.data as { type?: unknown; data?: unknown } | null;
    if (message?.type === 'explorer-data' && isExplorerData(message.data)) onData(message.data);
  });
  if (typeof globalThis.acquireVsCodeApi === 'function') {
    globalThis.acquireVsCodeApi().postMessage({ type: 'explorer-ready' });
    return;
  }
  fetch('api/explorer')
    .then(async (response) => {
      if (!response.ok) throw new Error(`GET api/explorer: ${response.status} ${await response.text()}`);
      const data: unknown = await response.json();
      if (!isExplorerData(data)) throw new Error('GET api/explorer: not explorer data');
      onData(data);
    })
    .catch((err: unknown) => onError(err instanceof Error ? err.message : String(err)));
}
