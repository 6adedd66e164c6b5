import { commands, window, workspace, type Disposable, type ExtensionContext } from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { activeBpfDocument } from './bpf-document';
import { newSchedulingProgram } from './commands/new-program';
import { mapToShow, traceToStart } from './commands/live';
import { applyPolicy, setClusterHealth } from './commands/policy';
import { attach, attachmentLabel, detach } from './commands/sessions';
import { verifyNow, verifyOnNode } from './commands/verify';
import { openExplorer } from './explorer-panel';
import { showMap } from './maps-panel';
import { NodesTree, type NodesElement } from './nodes-tree';
import { servePassphrases } from './passphrase';
import { VerdictStatus } from './status-bar';
import { Studio } from './studio';
import { Traces } from './trace-terminal';
import { registerVerifierLog } from './verifier-log';

let client: LanguageClient | undefined;

/** Start the language server (`ebpf-studio lsp --stdio`, bundled beside this file) and the studio's commands and views. */
export async function activate(context: ExtensionContext): Promise<void> {
  const outputChannel = window.createOutputChannel('eBPF Traffic Studio', { log: true });
  context.subscriptions.push(outputChannel);
  // `module` + stdio: the client forks the script with the extension host's Node and appends `--stdio`.
  const server = { module: context.asAbsolutePath('dist/ebpf-studio.js'), args: ['lsp'], transport: TransportKind.stdio };
  const serverOptions: ServerOptions = { run: server, debug: server };
  let status: VerdictStatus | undefined;
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'c' },
      { scheme: 'file', pattern: '**/ebpf-studio.yaml' },
    ],
    // headers and compile_commands.json changed on disk (a checkout, a build) re-verify the files they affect
    synchronize: { configurationSection: 'ebpfStudio', fileEvents: workspace.createFileSystemWatcher('**/{*.h,compile_commands.json}') },
    // The settings at start-up, so the first verification already uses them.
    initializationOptions: () => ({ settings: JSON.parse(JSON.stringify(workspace.getConfiguration('ebpfStudio'))) as unknown }),
    outputChannel,
    middleware: {
      handleDiagnostics: (uri, diagnostics, next) => {
        next(uri, diagnostics);
        status?.published(uri);
      },
    },
  };
  const languageClient = new LanguageClient('ebpfStudio', 'eBPF Traffic Studio', serverOptions, clientOptions);
  client = languageClient;
  const studio = new Studio(languageClient);
  registerVerifierLog(context, languageClient);
  const nodes = new NodesTree(studio);
  const traces = new Traces(studio);
  status = new VerdictStatus(languageClient);
  const changed = (): void => nodes.refresh();
  const command = (id: string, run: (...args: never[]) => unknown): Disposable => commands.registerCommand(id, run);
  context.subscriptions.push(
    nodes,
    traces,
    status,
    servePassphrases(languageClient, context.secrets),
    command('ebpfStudio.newProgram', () => newSchedulingProgram(studio)),
    command('ebpfStudio.verifyNow', () => verifyNow(studio)),
    command('ebpfStudio.verifyOnNode', () => verifyOnNode(studio)),
    command('ebpfStudio.attach', () => attach(studio, changed)),
    command('ebpfStudio.detach', (element?: NodesElement) =>
      detach(
        studio,
        changed,
        element?.kind === 'attachment'
          ? { target: { node: element.node, session: element.session, attachment: element.attachment.id }, label: attachmentLabel(element.attachment) }
          : undefined,
      ),
    ),
    command('ebpfStudio.applyPolicy', () => applyPolicy(studio, outputChannel)),
    command('ebpfStudio.setClusterHealth', () => setClusterHealth(studio, outputChannel)),
    command('ebpfStudio.startTrace', async (element?: NodesElement) => {
      const params = await traceToStart(studio, element);
      if (params) traces.start(params);
    }),
    command('ebpfStudio.stopTrace', () => (traces.running > 0 ? traces.stopAll() : void window.showInformationMessage('No trace is running.'))),
    command('ebpfStudio.showMaps', async (element?: NodesElement) => {
      const ref = await mapToShow(studio, element);
      if (ref) showMap(studio, outputChannel, ref);
    }),
    command('ebpfStudio.openExplorer', async () => {
      const document = activeBpfDocument('explore its verification');
      if (document) await openExplorer(context, studio, document);
    }),
    command('ebpfStudio.refreshNodes', changed),
  );
  await languageClient.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
