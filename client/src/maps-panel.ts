import { StudioMethods, type MapsParams, type MapsResult, type PolicyParams, type StatusResult } from '@ebpf-studio/studio-protocol';
import { ViewColumn, window, type Disposable, type LogOutputChannel, type WebviewPanel } from 'vscode';
import { projectDirs } from './bpf-document';
import { reason, type Studio } from './studio';
import { csp, escapeHtml, nonce } from './webview';

const REFRESH_MS = 1000;

/** A session's map to show. `splitOf` names the session's clusterset-socket-lb counters when it has them. */
export interface MapRef {
  node: string;
  session: string;
  map: string;
  /** The session runs clusterset-socket-lb (it has lb_stats): show the per-cluster split of `ebpfStudio/status`. */
  socketLb?: boolean;
}

type Split = StatusResult['services'];

interface Update {
  entries: MapsResult['entries'];
  more: boolean;
  split?: Split;
  error?: string;
  at: string;
}

/** The page: a table of the map's entries and bars of each service's per-cluster split, redrawn on each update. */
function html(panel: WebviewPanel, ref: MapRef): string {
  const n = nonce();
  return `<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp(panel.webview.cspSource, n)}">
<style nonce="${n}">
body{font-family:var(--vscode-font-family);color:var(--vscode-foreground)}
table{border-collapse:collapse;margin-top:8px}td,th{border:1px solid var(--vscode-panel-border);padding:2px 8px;font-family:var(--vscode-editor-font-family);text-align:left;vertical-align:top}
.error{color:var(--vscode-errorForeground)}.bar{display:flex;height:18px;width:480px;border:1px solid var(--vscode-panel-border)}
.bar div{overflow:hidden;white-space:nowrap;font-size:11px;padding-left:3px}.c0{background:#3794ff}.c1{background:#89d185}.c2{background:#cca700}.c3{background:#f14c4c}.c4{background:#b180d7}
.muted{opacity:.7}
</style></head><body>
<h2>${escapeHtml(ref.map)} <span class="muted">· session ${escapeHtml(ref.session)} on ${escapeHtml(ref.node)}</span></h2>
<div id="split"></div><div id="status" class="muted" role="status">loading…</div><table><thead><tr><th>key</th><th>value</th></tr></thead><tbody id="rows"></tbody></table>
<script nonce="${n}">
const text = (v) => typeof v === 'string' ? v : JSON.stringify(v);
const el = (tag, cls, content) => { const e = document.createElement(tag); if (cls) e.className = cls; if (content !== undefined) e.textContent = content; return e; };
window.addEventListener('message', ({ data: u }) => {
  document.getElementById('status').textContent = u.error ? '' : u.entries.length + ' entries' + (u.more ? ' (first page)' : '') + ' · updated ' + u.at;
  if (u.error) document.getElementById('status').append(el('span', 'error', u.error));
  const rows = document.getElementById('rows');
  rows.replaceChildren(...u.entries.map((e) => { const tr = el('tr'); tr.append(el('td', '', text(e.key)), el('td', '', text(e.value))); return tr; }));
  const split = document.getElementById('split');
  split.replaceChildren(...(u.split || []).map((s) => {
    const box = el('div'); box.append(el('h3', '', s.service + ' · ' + s.total + ' steered'));
    const bar = el('div', 'bar');
    s.clusters.forEach((c, i) => { const d = el('div', 'c' + (i % 5), c.cluster + ' ' + (c.share * 100).toFixed(1) + '%'); d.style.width = (c.share * 100) + '%'; d.title = c.cluster + ': ' + (c.connects + c.datagrams) + ' (policy ' + (c.expectedShare * 100).toFixed(1) + '%)'; bar.append(d); });
    box.append(bar); return box;
  }));
});
</script></body></html>`;
}

/**
 * Show Maps: a webview with the map's entries refreshed every REFRESH_MS (and a per-cluster split for
 * a clusterset-socket-lb session). Polling stops when the panel closes; a request in flight is not
 * followed by another. The log gets one line when the view closes, with the number of refreshes it
 * requested (each one `ebpfStudio/maps` request).
 */
export function showMap(studio: Studio, log: LogOutputChannel, ref: MapRef): WebviewPanel {
  const panel = window.createWebviewPanel('ebpfStudio.maps', `Map ${ref.map} · ${ref.node}`, ViewColumn.Active, { enableScripts: true, localResourceRoots: [] });
  panel.webview.html = html(panel, ref);
  let open = true;
  let timer: NodeJS.Timeout | undefined;
  let refreshes = 0;
  const params: MapsParams = { node: ref.node, session: ref.session, map: ref.map, pageSize: 200 };
  const split = async (): Promise<Split | undefined> => {
    if (!ref.socketLb) return undefined;
    const [dir] = await projectDirs();
    if (!dir) return undefined;
    const status = await studio.request<StatusResult>(StudioMethods.status, { dir } satisfies PolicyParams).catch(() => undefined);
    return status && status.session === ref.session ? status.services : undefined;
  };
  const tick = async (): Promise<void> => {
    let update: Update;
    refreshes++;
    try {
      const [maps, services] = await Promise.all([studio.request<MapsResult>(StudioMethods.maps, params), split()]);
      update = { entries: maps.entries, more: maps.more, at: new Date().toLocaleTimeString(), ...(services ? { split: services } : {}) };
    } catch (err) {
      update = { entries: [], more: false, error: reason(err), at: new Date().toLocaleTimeString() };
    }
    if (!open) return;
    void panel.webview.postMessage(update);
    timer = setTimeout(() => void tick(), REFRESH_MS);
  };
  const closed: Disposable = panel.onDidDispose(() => {
    open = false;
    clearTimeout(timer);
    closed.dispose();
    log.info(`Map view ${ref.map} of session ${ref.session} on ${ref.node} closed after ${refreshes} refreshes: polling stopped`);
  });
  void tick();
  return panel;
}
