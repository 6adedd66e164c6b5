import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INVENTORY_FILE, InventoryError, parseInventory, type InventoryProblem } from '@ebpf-studio/remote-agent';
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { checkPolicy } from '../../policy';
import type { StudioContext } from './context';

/** Documents the yaml diagnostics are for: any file named ebpf-studio.yaml. */
export function isStudioYaml(uri: string): boolean {
  return uri.startsWith('file:') && basename(fileURLToPath(uri)) === INVENTORY_FILE;
}

/** From the 1-based position to the end of the word there (at least one character when the line has one). */
function rangeAt(lines: readonly string[], p: InventoryProblem): Diagnostic['range'] {
  const line = Math.max(0, p.line - 1);
  const text = lines[line] ?? '';
  const start = Math.min(Math.max(0, p.col - 1), text.length);
  const word = /^[^\s,:\]}#]*/.exec(text.slice(start))![0].length;
  const end = word > 0 ? start + word : Math.min(start + 1, text.length);
  return { start: { line, character: start }, end: { line, character: end } };
}

/** The inventory reader's and the policy reader's positioned problems and warnings, each once. */
export function studioYamlDiagnostics(text: string, path: string): Diagnostic[] {
  const policy = checkPolicy(text, path);
  let inventory: { problems: readonly InventoryProblem[]; warnings: readonly InventoryProblem[] };
  try {
    inventory = { problems: [], warnings: parseInventory(text, path).warnings };
  } catch (err) {
    if (!(err instanceof InventoryError)) throw err;
    inventory = { problems: err.problems, warnings: [] };
  }
  const lines = text.split(/\r?\n/);
  const seen = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  const add = (problems: readonly InventoryProblem[], severity: DiagnosticSeverity): void => {
    for (const p of problems) {
      const key = `${p.line}:${p.col}:${p.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      diagnostics.push({ range: rangeAt(lines, p), severity, source: 'ebpf-studio', message: p.message });
    }
  };
  add([...inventory.problems, ...policy.problems], DiagnosticSeverity.Error);
  add([...inventory.warnings, ...policy.warnings], DiagnosticSeverity.Warning);
  return diagnostics;
}

/** Publishes an open ebpf-studio.yaml's problems, debounced like the C files. */
export class YamlDiagnostics {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly ctx: StudioContext) {}

  schedule(doc: TextDocument, delayMs: number): void {
    if (!isStudioYaml(doc.uri)) return;
    this.forget(doc.uri);
    this.timers.set(
      doc.uri,
      setTimeout(() => {
        this.timers.delete(doc.uri);
        const current = this.ctx.documents.get(doc.uri);
        if (!current) return;
        const diagnostics = studioYamlDiagnostics(current.getText(), fileURLToPath(current.uri));
        void this.ctx.connection.sendDiagnostics({ uri: current.uri, version: current.version, diagnostics });
      }, delayMs),
    );
  }

  forget(uri: string): void {
    clearTimeout(this.timers.get(uri));
    this.timers.delete(uri);
  }
}
