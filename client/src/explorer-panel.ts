import { existsSync, readFileSync } from 'node:fs';
import { StudioMethods, type ExplorerDataParams } from '@ebpf-studio/studio-protocol';
import { ProgressLocation, Uri, ViewColumn, window, type ExtensionContext, type TextDocument, type WebviewPanel } from 'vscode';
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

/**
 * Open Verifier Explorer: the Verifier Explorer page (web/dist) in a webview, given the file's
 * level-2 verification (`ebpfStudio/explorerData`) once the page says it is ready.
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
  panel.webview.onDidReceiveMessage(async (message: { type?: string } | undefined) => {
    if (message?.type !== 'explorer-ready') return;
    try {
      await panel.webview.postMessage({ type: 'explorer-data', data: await data });
    } catch (err) {
      void window.showErrorMessage(`Verifier Explorer: ${reason(err)}`);
    }
  });
  panel.webview.html = webviewHtml(panel, dist);
}
