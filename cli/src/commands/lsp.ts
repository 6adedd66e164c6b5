import { startLanguageServer } from '@ebpf-studio/server';
import { EXIT, UsageFailure } from '../exit-codes';

/** `ebpf-studio lsp --stdio`: serve LSP until the client disconnects. */
export function lspCommand(argv: string[]): Promise<number> {
  if (!argv.includes('--stdio')) throw new UsageFailure('lsp needs --stdio (the only transport): ebpf-studio lsp --stdio');
  const connection = startLanguageServer();
  return new Promise((resolve) => connection.onExit(() => resolve(EXIT.ok)));
}
