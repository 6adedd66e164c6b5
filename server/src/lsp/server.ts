/**
 * The language server: wires LSP requests to the engine and the feature modules. Only this folder
 * knows LSP; translate.ts is the one place engine results become LSP types.
 */
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CodeActionKind,
  MessageType,
  ProposedFeatures,
  ShowMessageNotification,
  TextDocumentSyncKind,
  TextDocuments,
  createConnection,
  type CodeAction,
  type Connection,
  type Diagnostic,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { SourceText } from '../engine/source-text';
import { programLenses } from './features/code-lens';
import { completion } from './features/completion';
import { hover } from './features/hover';
import { signatureHelp } from './features/signature-help';
import { KnowledgeService } from './knowledge-service';
import { quickFixesFor } from './features/quick-fixes';
import { DocumentVerifier, type Outcome } from './document-verifier';
import { isBpfDocument } from './glob';
import { readSettings, type StudioSettings } from './settings';
import { diagnosticsFor, type DiagnosticData } from './translate';
import { EngineVerifier } from './engine-verifier';
import { VerifierLogRequest } from './custom-requests';
import { StudioMethods, type PassphraseParams, type PassphraseResult } from './studio-protocol';
import { registerStudioRequests } from './studio';

export function startLanguageServer(connection: Connection = createConnection(ProposedFeatures.all)): Connection {
  const documents = new TextDocuments(TextDocument);
  let settings: StudioSettings = readSettings({});
  const warn = (message: string): void => void connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Warning, message });
  const askPassphrase = (key: string, node: string): Promise<string | undefined> =>
    connection.sendRequest<PassphraseResult>(StudioMethods.passphrase, { key, node } satisfies PassphraseParams).then(
      (r) => r?.passphrase,
      () => undefined,
    );
  const engine = new EngineVerifier(() => settings, warn, (line) => connection.console.log(line), askPassphrase);
  const publishedFor = new Map<string, string[]>();

  const publish = (outcome: Outcome): void => {
    const { uri, path } = outcome.request;
    if (!documents.get(uri)) return;
    if ('error' in outcome) {
      const diagnostic: Diagnostic = {
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
        severity: 2,
        source: 'ebpf-studio',
        code: 'EBPF-STUDIO-NOT-RUN',
        message: `Could not verify: ${outcome.error.message}`,
      };
      connection.sendDiagnostics({ uri, version: outcome.request.version, diagnostics: [diagnostic] });
      return;
    }
    const { report } = outcome;
    connection.sendDiagnostics({ uri, version: outcome.request.version, diagnostics: diagnosticsFor(report, path) });
    const others = [...new Set(report.diagnostics.map((d) => d.file).filter((f) => f !== path))];
    for (const stale of publishedFor.get(uri) ?? []) {
      if (!others.includes(stale)) connection.sendDiagnostics({ uri: `file://${stale}`, diagnostics: [] });
    }
    for (const file of others) connection.sendDiagnostics({ uri: `file://${file}`, diagnostics: diagnosticsFor(report, file) });
    publishedFor.set(uri, others);
    void connection.sendRequest('workspace/codeLens/refresh').catch(() => undefined);
  };

  const verifier = new DocumentVerifier(engine, publish);
  const knowledge = new KnowledgeService(() => settings.includePaths, () => engine.knowledgeTarget());

  let workspaceFolder: string | undefined;
  const studio = registerStudioRequests({ connection, documents, engine, verifier, settings: () => settings, workspaceFolder: () => workspaceFolder });

  const pathOf = (uri: string): string | undefined => (uri.startsWith('file:') ? fileURLToPath(uri) : undefined);

  const schedule = (doc: TextDocument, delayMs: number): void => {
    const path = pathOf(doc.uri);
    if (!path || !isBpfDocument(path, doc.getText(), settings.globs)) return;
    verifier.schedule({ uri: doc.uri, path, text: doc.getText(), version: doc.version }, delayMs);
  };

  const reverifyIncluders = (path: string): void => {
    for (const uri of verifier.includersOf(path)) {
      const doc = documents.get(uri);
      if (doc) schedule(doc, 0);
    }
  };

  connection.onInitialize((params) => {
    const init = params.initializationOptions as { settings?: unknown } | undefined;
    if (init?.settings) settings = readSettings(init.settings);
    const root = params.workspaceFolders?.[0]?.uri ?? params.rootUri;
    workspaceFolder = root ? pathOf(root) : undefined;
    return {
    capabilities: {
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      codeLensProvider: { resolveProvider: false },
      hoverProvider: true,
      completionProvider: { triggerCharacters: ['"', '/', '_'] },
      signatureHelpProvider: { triggerCharacters: ['(', ','] },
    },
    serverInfo: { name: 'ebpf-studio', version: '0.1.0' },
    };
  });

  connection.onDidChangeConfiguration((change) => {
    const section = (change.settings as Record<string, unknown> | undefined)?.['ebpfStudio'];
    settings = readSettings(section);
    for (const doc of documents.all()) schedule(doc, 0);
  });

  documents.onDidOpen((e) => schedule(e.document, 0));
  documents.onDidChangeContent((e) => schedule(e.document, settings.debounceMs));
  documents.onDidSave((e) => {
    const path = pathOf(e.document.uri);
    if (path) reverifyIncluders(path);
  });
  documents.onDidClose((e) => {
    verifier.forget(e.document.uri);
    knowledge.forget(e.document.uri);
    connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
    for (const other of publishedFor.get(e.document.uri) ?? []) connection.sendDiagnostics({ uri: `file://${other}`, diagnostics: [] });
    publishedFor.delete(e.document.uri);
  });
  connection.onDidChangeWatchedFiles((change) => {
    for (const c of change.changes) {
      const path = pathOf(c.uri);
      if (!path) continue;
      // a compile_commands.json that appeared, changed or went may give any open file other flags
      if (basename(path) === 'compile_commands.json') for (const doc of documents.all()) schedule(doc, 0);
      else reverifyIncluders(path);
    }
  });

  connection.onCodeLens(async (params, token) => {
    // Answer with the verdict being computed rather than with no lens and a refresh: VS Code drops a
    // refresh that arrives while it is still taking in the previous answer, and the lens never came.
    await Promise.race([verifier.settled(params.textDocument.uri), new Promise<void>((resolve) => token.onCancellationRequested(() => resolve()))]);
    const doc = documents.get(params.textDocument.uri);
    const report = verifier.report(params.textDocument.uri);
    return doc && report ? programLenses(doc.uri, doc.getText(), report) : [];
  });

  connection.onCodeAction((params) => {
    const doc = documents.get(params.textDocument.uri);
    const report = verifier.report(params.textDocument.uri);
    if (!doc) return [];
    const source = new SourceText(doc.getText());
    const actions: CodeAction[] = [];
    for (const diagnostic of params.context.diagnostics) {
      const data = diagnostic.data as DiagnosticData | undefined;
      if (!data?.code) continue;
      const progType = report?.programs.find((p) => p.name === data.program)?.type;
      for (const fix of quickFixesFor({ source, line: diagnostic.range.start.line + 1, code: data.code, related: data.related, ...(data.kernelMessage ? { kernelMessage: data.kernelMessage } : {}), ...(progType ? { progType } : {}) })) {
        actions.push({ title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], isPreferred: true, edit: { changes: { [doc.uri]: fix.edits } } });
      }
    }
    return actions;
  });

  connection.onHover((params) => {
    const doc = documents.get(params.textDocument.uri);
    return doc ? hover(knowledge, doc.uri, doc.getText(), params.position.line, params.position.character) : null;
  });

  connection.onCompletion((params) => {
    const doc = documents.get(params.textDocument.uri);
    return doc ? completion(knowledge, doc.uri, doc.getText(), params.position.line, params.position.character) : [];
  });

  connection.onSignatureHelp((params) => {
    const doc = documents.get(params.textDocument.uri);
    return doc ? signatureHelp(knowledge, doc.getText(), params.position.line, params.position.character) : null;
  });

  connection.onRequest(VerifierLogRequest, (params) => {
    const report = verifier.report(params.uri);
    const program = params.program ?? report?.programs.find((p) => report.logs[p.name] !== undefined)?.name;
    const log = program === undefined ? undefined : report?.logs[program];
    return log ?? `No verifier log for ${program ?? 'this file'}: it was accepted, or not verified yet.`;
  });

  connection.onShutdown(async () => {
    await studio.dispose();
    engine.dispose();
  });
  documents.listen(connection);
  connection.listen();
  return connection;
}
