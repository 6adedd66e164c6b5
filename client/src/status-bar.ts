import { DiagnosticSeverity, StatusBarAlignment, window, workspace, type Disposable, type Uri } from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { isBpfSource } from './bpf-document';

/** The verify target(s) the settings name for a file. */
function targets(uri: Uri): string {
  const value = workspace.getConfiguration('ebpfStudio', uri).get<string | string[]>('verifyTarget', 'local');
  return Array.isArray(value) ? value.join(', ') || 'local' : value || 'local';
}

/**
 * The status bar item: where the active BPF file verifies and its last verdict — ✓ once the server
 * published no errors for it, ✗ with the error count otherwise, … until its first verification.
 */
export class VerdictStatus implements Disposable {
  private readonly item = window.createStatusBarItem('ebpfStudio.verdict', StatusBarAlignment.Left, 50);
  private readonly verified = new Set<string>();
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
    if (window.activeTextEditor?.document.uri.toString() === uri.toString()) this.update();
  }

  private update(): void {
    const document = window.activeTextEditor?.document;
    if (!document || !isBpfSource(document)) {
      this.item.hide();
      return;
    }
    const target = targets(document.uri);
    const errors = (this.client.diagnostics?.get(document.uri) ?? []).filter((d) => d.severity === DiagnosticSeverity.Error).length;
    const verdict = !this.verified.has(document.uri.toString()) ? '$(sync~spin)' : errors === 0 ? '✓' : `✗ ${errors}`;
    this.item.text = `$(server-process) ${target} ${verdict}`;
    this.item.tooltip = `eBPF: verified by ${target}'s kernel — ${!this.verified.has(document.uri.toString()) ? 'verifying…' : errors === 0 ? 'accepted' : `${errors} errors`}. Click to verify now.`;
    this.item.show();
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
