import { existsSync, readFileSync } from 'node:fs';
import { StudioMethods, type ExplorerDataParams } from '@ebpf-studio/studio-protocol';
import { ProgressLocation, Range, Selection, TextEditorRevealType, TextEditorSelectionChangeKind, Uri, ViewColumn, window, type ExtensionContext, type TextDocument, type WebviewPanel } from 'vscode';
import { reason, type Studio } from './studio';
import { csp, nonce } from './webview';

/**
 * web/dist/index.html made a webview document: its relative asset URLs resolve against the webview
 * URI of web/dist (a <base>), its scripts carry the nonce, and a strict CSP comes first. Monaco sets
 * inline styles, hence 'unsafe-inline' for styles only.
 */
function webviewHtml(panel: WebviewPanel, dist: Uri): string {
  const n = nonce();
  const { cspSource } = panel.webview;
  const base = `${panel.webview.asWebviewUri(dist).toString()}/`;
  const head = `<meta http-equiv="Content-Security-Policy" content="${csp(cspSource, n, { styles: `${cspSource} 'unsafe-inline'`, workers: true })}"><base href="${base}">`;
  return readFileSync(Uri.joinPath(dist, 'index.html').fsPath, 'utf8')
    .replace(/<head>/i, `<head>${head}`)
    .replace(/<script\b/gi, `<script nonce="${n}"`);
}

/** Shows 1-based `line` of `document` in its editor (the one already showing it, else the first column), keeping focus on the explorer. */
async function revealSource(document: TextDocument, line: number): Promise<void> {
  if (!Number.isInteger(line) || line < 1 || line > document.lineCount) return;
  const shown = window.visibleTextEditors.find((e) => e.document === document);
  const editor = await window.showTextDocument(document, { viewColumn: shown?.viewColumn ?? ViewColumn.One, preserveFocus: true, preview: false });
  const at = new Selection(line - 1, 0, line - 1, 0);
  editor.selection = at;
  editor.revealRange(new Range(at.start, at.end), TextEditorRevealType.InCenterIfOutsideViewport);
}

/**
 * Open Verifier Explorer: the Verifier Explorer page (web/dist) in a webview, given the file's
 * level-2 verification (`ebpfStudio/explorerData`) once the page says it is ready. Selecting an
 * instruction (or a source line) in the page moves the file's editor to that line; moving the editor's
 * cursor by hand selects the line's first instruction in the page.
 */
export async function openExplorer(context: ExtensionContext, studio: Studio, document: TextDocument): Promise<void> {
  const dist = Uri.joinPath(context.extensionUri, 'web', 'dist');
  if (!existsSync(Uri.joinPath(dist, 'index.html').fsPath) || !existsSync(Uri.joinPath(dist, 'explorer.js').fsPath)) {
    void window.showErrorMessage(`The Verifier Explorer is not part of this build: ${dist.fsPath} has no index.html and explorer.js (build web/ with "npm run build -w web" and package again).`);
    return;
  }
  const name = document.fileName.replace(/^.*\//, '');
  const panel = window.createWebviewPanel('ebpfStudio.explorer', `Verifier Explorer · ${name}`, ViewColumn.Beside, { enableScripts: true, localResourceRoots: [dist], retainContextWhenHidden: true });
  const params: ExplorerDataParams = { uri: document.uri.toString() };
  const data = Promise.resolve(
    window.withProgress({ location: ProgressLocation.Window, title: `eBPF: verifying ${name} with full logs` }, () => studio.request<unknown>(StudioMethods.explorerData, params)),
  );
  data.catch(() => undefined); // reported when the page asks for it
  panel.webview.onDidReceiveMessage(async (message: { type?: string; line?: unknown } | undefined) => {
    if (message?.type === 'reveal-source' && typeof message.line === 'number') {
      await revealSource(document, message.line).catch((err: unknown) => window.showErrorMessage(`Verifier Explorer: cannot show line ${String(message.line)} of ${name}: ${reason(err)}`));
      return;
    }
    if (message?.type !== 'explorer-ready') return;
    try {
      await panel.webview.postMessage({ type: 'explorer-data', data: await data });
    } catch (err) {
      void window.showErrorMessage(`Verifier Explorer: ${reason(err)}`);
    }
  });
  const cursor = window.onDidChangeTextEditorSelection((e) => {
    const byHand = e.kind === TextEditorSelectionChangeKind.Mouse || e.kind === TextEditorSelectionChangeKind.Keyboard;
    if (!byHand || e.textEditor.document !== document || e.selections.length !== 1) return;
    void panel.webview.postMessage({ type: 'select-line', line: e.selections[0]!.active.line + 1 });
  });
  panel.onDidDispose(() => cursor.dispose());
  panel.webview.html = webviewHtml(panel, dist);
}
