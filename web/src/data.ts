/**
 * The page's input: plain data from `ebpf-studio explore` (GET api/explorer) or, inside a VS Code
 * webview, from the extension (a `{ type: 'explorer-data', data }` message after the page posted
 * `{ type: 'explorer-ready' }`). The types mirror server/src/explorer/types.ts; change both together.
 */

export interface ExplorerData {
  file: string;
  source?: string;
  kernel?: string;
  diagnostics: ExplorerDiagnostic[];
  programs: ExplorerProgram[];
}

export interface ExplorerProgram {
  name: string;
  section?: string;
  verdict: 'accepted' | 'rejected' | 'not-loaded';
  message?: string;
  diagnostics: ExplorerDiagnostic[];
  instructions: ExplorerInstruction[];
  insnsProcessed?: number;
  truncated?: boolean;
}

export interface ExplorerDiagnostic {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: 'error' | 'warning' | 'information';
  code: string;
  message: string;
  fix?: string;
}

export interface SourceAnnotation {
  text: string;
  file: string;
  line: number;
}

export interface ExplorerInstruction {
  idx: number;
  text: string;
  line?: number;
  annotation?: SourceAnnotation;
  state?: string;
  registers?: Record<string, string>;
  stack?: Record<string, string>;
  visits: number;
  isError?: boolean;
}

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
