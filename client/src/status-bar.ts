import { VerifyFallback } from '@ebpf-studio/studio-protocol';
import { commands, DiagnosticSeverity, StatusBarAlignment, window, workspace, type Diagnostic, type Disposable, type Uri } from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { isBpfSource } from './bpf-document';

/** The verify target(s) the settings name for a file. */
function targets(uri: Uri): string {
  const value = workspace.getConfiguration('ebpfStudio', uri).get<string | string[]>('verifyTarget', 'local');
  return Array.isArray(value) ? value.join(', ') || 'local' : value || 'local';
}

/**
 * Where the server says a file verified instead of the default target: a node (this machine's kernel
 * cannot verify), or nowhere (no node to stand in) — read from the notes it publishes on the file.
 */
export function fallbackOf(diagnostics: readonly Diagnostic[]): { node: string; message: string } | { node?: undefined; message: string } | undefined {
  for (const d of diagnostics) {
    const node = d.code === VerifyFallback.code ? VerifyFallback.note.exec(d.message)?.[1] : undefined;
    if (node) return { node, message: d.message };
  }
  const none = diagnostics.find((d) => VerifyFallback.none.test(d.message));
  return none ? { message: none.message } : undefined;
}

/**
 * The status bar item: where the active BPF file verifies and its last verdict — ✓ once the server
 * published no errors for it, ✗ with the error count otherwise, … until its first verification. When
 * the default target stands in for this machine's kernel (a node of ebpf-studio.yaml, or none), the item
 * says so, and one notification says why and how to change it.
 */
export class VerdictStatus implements Disposable {
  private readonly item = window.createStatusBarItem('ebpfStudio.verdict', StatusBarAlignment.Left, 50);
  private readonly verified = new Set<string>();
  private notified = false;
  private readonly subscriptions: Disposable[];

  constructor(private readonly client: LanguageClient) {
    this.item.name = 'eBPF verdict';
    this.item.command = 'ebpfStudio.verifyNow';
    this.subscriptions = [
      this.item,
      window.onDidChangeActiveTextEditor(() => this.update()),
      workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('ebpfStudio.verifyTarget') && this.update()),
      workspace.onDidCloseTextDocument((d) => this.verified.delete(d.uri.toString())),
    ];
    this.update();
  }

  /** The server published diagnostics for uri (called after they are in the client's collection). */
  published(uri: Uri): void {
    this.verified.add(uri.toString());
    this.notifyFallback(uri);
    if (window.activeTextEditor?.document.uri.toString() === uri.toString()) this.update();
  }

  private update(): void {
    const document = window.activeTextEditor?.document;
    if (!document || !isBpfSource(document)) {
      this.item.hide();
      return;
    }
    const diagnostics = this.client.diagnostics?.get(document.uri) ?? [];
    const fallback = fallbackOf(diagnostics);
    if (fallback && fallback.node === undefined) {
      this.item.text = '$(warning) eBPF: no kernel to verify with';
      this.item.tooltip = `${fallback.message}\nClick to verify again.`;
      this.item.show();
      return;
    }
    const target = fallback ? `${fallback.node} (no local kernel)` : targets(document.uri);
    const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error).length;
    const verdict = !this.verified.has(document.uri.toString()) ? '$(sync~spin)' : errors === 0 ? '✓' : `✗ ${errors}`;
    this.item.text = fallback ? `$(server-process) eBPF: ${target} ${verdict}` : `$(server-process) ${target} ${verdict}`;
    this.item.tooltip = `eBPF: verified by ${fallback ? fallback.node : target}'s kernel — ${!this.verified.has(document.uri.toString()) ? 'verifying…' : errors === 0 ? 'accepted' : errors === 1 ? '1 error' : `${errors} errors`}. Click to verify now.${fallback ? `\n\n${fallback.message}` : ''}`;
    this.item.show();
  }

  /** Once per window: why the default target is a node (or none) and how to change it. */
  private notifyFallback(uri: Uri): void {
    if (this.notified) return;
    const fallback = fallbackOf(this.client.diagnostics?.get(uri) ?? []);
    if (fallback?.node === undefined) return; // without a node the server's own warning names the fix
    this.notified = true;
    const settings = 'Open Settings';
    void window
      .showInformationMessage(`eBPF Traffic Studio verifies on ${fallback.node}: ${fallback.message.replace(VerifyFallback.note, '').replace(/^:\s*/, '')}`, settings)
      .then((choice) => choice === settings && commands.executeCommand('workbench.action.openSettings', 'ebpfStudio.verifyTarget'));
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
