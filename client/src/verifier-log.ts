import { commands, languages, Uri, window, workspace, type ExtensionContext, type TextDocumentContentProvider } from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { StudioMethods } from '@ebpf-studio/studio-protocol';

const VERIFIER_LOG_SCHEME = 'ebpf-verifier-log';

/** The request's parameters; without `program` the server answers for the file's first rejected program. */
export interface VerifierLogParams {
  uri: string;
  program?: string;
}

function logUri(params: VerifierLogParams): Uri {
  const file = Uri.parse(params.uri).path.replace(/^.*\//, '');
  const name = params.program ? `${file}-${params.program}` : file;
  return Uri.from({ scheme: VERIFIER_LOG_SCHEME, path: `/${name}.bpflog`, query: JSON.stringify(params) });
}

/** Register the `ebpf-verifier-log:` documents (content from the server) and the command that opens one. */
export function registerVerifierLog(context: ExtensionContext, client: LanguageClient): void {
  const provider: TextDocumentContentProvider = {
    provideTextDocumentContent: (uri, token) => client.sendRequest<string>(StudioMethods.verifierLog, JSON.parse(uri.query) as VerifierLogParams, token),
  };
  const open = async (target?: Uri | string, program?: string): Promise<void> => {
    const source = target ?? window.activeTextEditor?.document.uri;
    if (source === undefined) {
      void window.showWarningMessage('Open a BPF C file to see its verifier log.');
      return;
    }
    const params: VerifierLogParams = { uri: source.toString(), ...(program ? { program } : {}) };
    const document = await workspace.openTextDocument(logUri(params));
    await window.showTextDocument(await languages.setTextDocumentLanguage(document, 'bpf-verifier-log'), { preview: false });
  };
  context.subscriptions.push(
    workspace.registerTextDocumentContentProvider(VERIFIER_LOG_SCHEME, provider),
    commands.registerCommand('ebpfStudio.openVerifierLog', open),
  );
}
