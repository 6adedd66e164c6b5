import { window, workspace, type TextDocument } from 'vscode';

/** Whether the document is a BPF C file by the ebpfStudio.globs setting's default suffix or the C language. */
export function isBpfSource(document: TextDocument): boolean {
  return document.uri.scheme === 'file' && (document.languageId === 'c' || document.fileName.endsWith('.bpf.c'));
}

/** The active editor's BPF C document, or undefined after telling the user to open one. */
export function activeBpfDocument(action: string): TextDocument | undefined {
  const document = window.activeTextEditor?.document;
  if (document && isBpfSource(document)) return document;
  void window.showWarningMessage(`Open a BPF C file to ${action}.`);
  return undefined;
}

/** Directories of the workspace's ebpf-studio.yaml files (absolute). */
export async function projectDirs(): Promise<string[]> {
  const files = await workspace.findFiles('**/ebpf-studio.yaml', '**/node_modules/**', 50);
  return files.map((f) => f.fsPath.replace(/\/ebpf-studio\.yaml$/, '')).sort();
}
