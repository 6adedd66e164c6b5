import { randomBytes } from 'node:crypto';

/** A fresh nonce for one webview document's scripts and styles. */
export function nonce(): string {
  return randomBytes(16).toString('base64url');
}

/** A strict Content-Security-Policy: nothing but the nonce's scripts/styles and what cspSource allows. */
export function csp(cspSource: string, scriptNonce: string, extra: { styles?: string; workers?: boolean } = {}): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
    `style-src ${extra.styles ?? `'nonce-${scriptNonce}'`}`,
    `script-src 'nonce-${scriptNonce}'`,
    ...(extra.workers ? [`worker-src ${cspSource} blob:`] : []),
  ].join('; ');
}

/** Text for HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
