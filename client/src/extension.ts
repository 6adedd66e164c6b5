import { window, workspace, type ExtensionContext } from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { registerVerifierLog } from './verifier-log';

let client: LanguageClient | undefined;

/** Start the language server (`ebpf-studio lsp --stdio`, bundled beside this file) and the verifier-log view. */
export async function activate(context: ExtensionContext): Promise<void> {
  const outputChannel = window.createOutputChannel('eBPF Traffic Studio', { log: true });
  context.subscriptions.push(outputChannel);
  // `module` + stdio: the client forks the script with the extension host's Node and appends `--stdio`.
  const server = { module: context.asAbsolutePath('dist/ebpf-studio.js'), args: ['lsp'], transport: TransportKind.stdio };
  const serverOptions: ServerOptions = { run: server, debug: server };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', language: 'c' }],
    synchronize: { configurationSection: 'ebpfStudio' },
    // The settings at start-up, so the first verification already uses them.
    initializationOptions: () => ({ settings: JSON.parse(JSON.stringify(workspace.getConfiguration('ebpfStudio'))) as unknown }),
    outputChannel,
  };
  client = new LanguageClient('ebpfStudio', 'eBPF Traffic Studio', serverOptions, clientOptions);
  registerVerifierLog(context, client);
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
