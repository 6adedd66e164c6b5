/**
 * Monaco with only what the explorer uses: the core editor API, a few editor features, the C
 * tokenizer and a tokenizer for the instruction stream. Workers come from our own assets.
 */
import * as monaco from 'monaco-editor/editor/editor.api';
import 'monaco-editor/features/bracketMatching/register';
import 'monaco-editor/features/clipboard/register';
import 'monaco-editor/features/codicon/register';
import 'monaco-editor/features/contextmenu/register';
import 'monaco-editor/features/find/register';
import 'monaco-editor/features/folding/register';
import 'monaco-editor/features/gotoError/register';
import 'monaco-editor/features/hover/register';
import 'monaco-editor/features/wordHighlighter/register';
import 'monaco-editor/languages/definitions/cpp/register';

// The worker sits beside this script, wherever the page was loaded from (our server or a webview).
const scriptUrl = document.currentScript instanceof HTMLScriptElement ? document.currentScript.src : document.baseURI;
globalThis.MonacoEnvironment = { getWorkerUrl: () => new URL('editor.worker.js', scriptUrl).toString() };

export const INSN_LANGUAGE = 'bpf-verifier-insn';

monaco.languages.register({ id: INSN_LANGUAGE });
monaco.languages.setMonarchTokensProvider(INSN_LANGUAGE, {
  tokenizer: {
    root: [
      [/^;.*$/, 'annotation'], // a source annotation line
      [/\s+;\s.*$/, 'state'], // the state the kernel printed after the instruction
      [/\b(?:call|exit|goto|gotol|may_goto|if|be16|be32|be64|le16|le32|le64|bswap16|bswap32|bswap64)\b/, 'keyword'],
      [/\b(?:u8|u16|u32|u64|s8|s16|s32|s64)\b/, 'type'],
      [/\b[rw]\d+\b/, 'variable'],
      [/\bpc[+-]\d+\b/, 'number'],
      [/-?\b(?:0x[0-9a-f]+|\d+)\b/, 'number'],
      [/[a-z_]\w*#\d+/, 'type.identifier'], // bpf_map_lookup_elem#1
    ],
  },
});

monaco.editor.defineTheme('explorer-light', {
  base: 'vs',
  inherit: true,
  rules: [
    { token: 'annotation', foreground: '7a3e9d', fontStyle: 'italic' },
    { token: 'state', foreground: '6a737d' },
  ],
  colors: {},
});
monaco.editor.defineTheme('explorer-dark', {
  base: 'vs-dark',
  inherit: true,
  rules: [
    { token: 'annotation', foreground: 'c586c0', fontStyle: 'italic' },
    { token: 'state', foreground: '8b949e' },
  ],
  colors: {},
});

/** Light inside a light VS Code theme or a light-preferring browser, dark otherwise. */
export function themeName(): string {
  const body = document.body.classList;
  if (body.contains('vscode-light') || body.contains('vscode-high-contrast-light')) return 'explorer-light';
  if (body.contains('vscode-dark') || body.contains('vscode-high-contrast')) return 'explorer-dark';
  return window.matchMedia('(prefers-color-scheme: light)').matches ? 'explorer-light' : 'explorer-dark';
}

export { monaco };
