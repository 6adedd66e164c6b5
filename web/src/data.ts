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

/** Inside a VS Code webview: the channel to the extension (acquireVsCodeApi may be called once per page). */
const host: VsCodeApi | undefined = typeof globalThis.acquireVsCodeApi === 'function' ? globalThis.acquireVsCodeApi() : undefined;

/**
 * Inside a VS Code webview, asks the extension to show `line` (1-based) of the explored source in its
 * editor (`{ type: 'reveal-source', line }`); a no-op in a browser.
 */
export function revealInHost(line: number): void {
  host?.postMessage({ type: 'reveal-source', line });
}

export interface DataHandlers {
  /** Each data set that arrives (a webview may post a new one after a re-verify). */
  onData(data: ExplorerData): void;
  onError(message: string): void;
  /** The extension's editor moved to a source line (`{ type: 'select-line', line }`, 1-based). */
  onSelectLine(line: number): void;
}

export function receiveData(handlers: DataHandlers): void {
  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    const message = event.data as { type?: unknown; data?: unknown; line?: unknown } | null;
    if (message?.type === 'explorer-data' && isExplorerData(message.data)) handlers.onData(message.data);
    else if (message?.type === 'select-line' && typeof message.line === 'number' && Number.isInteger(message.line)) handlers.onSelectLine(message.line);
  });
  if (host) {
    host.postMessage({ type: 'explorer-ready' });
    return;
  }
  fetch('api/explorer')
    .then(async (response) => {
      if (!response.ok) throw new Error(`GET api/explorer: ${response.status} ${await response.text()}`);
      const data: unknown = await response.json();
      if (!isExplorerData(data)) throw new Error('GET api/explorer: not explorer data');
      handlers.onData(data);
    })
    .catch((err: unknown) => handlers.onError(err instanceof Error ? err.message : String(err)));
}
