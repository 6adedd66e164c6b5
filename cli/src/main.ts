import { EngineError } from '@ebpf-studio/server';
import { AgentError } from '@ebpf-studio/remote-agent';
import { BpfError } from '@ebpf-studio/libbpf-ts';
import { demoCommand } from './commands/demo';
import { lspCommand } from './commands/lsp';
import { verifyCommand, VERIFY_HELP } from './commands/verify';
import { EXIT, UsageFailure } from './exit-codes';

const HELP = `ebpf-studio — write, verify and run eBPF traffic programs

commands:
  verify FILE...   compile and judge every program with the kernel verifier
  demo             verify the bundled samples against this kernel and print the verdicts
  lsp --stdio      run the language server on stdin/stdout (what the VS Code extension starts)

ebpf-studio COMMAND --help for a command's options.

${VERIFY_HELP}`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'verify':
        return await verifyCommand(rest);
      case 'demo':
        return await demoCommand(rest);
      case 'lsp':
        return await lspCommand(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(HELP);
        return command === undefined ? EXIT.couldNotRun : EXIT.ok;
      case '--version':
        console.log(require('../../package.json').version);
        return EXIT.ok;
      default:
        throw new UsageFailure(`unknown command '${command}' (try: ebpf-studio --help)`);
    }
  } catch (err) {
    if (err instanceof UsageFailure || (err instanceof TypeError && (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS'))) {
      console.error(`ebpf-studio: ${(err as Error).message}`);
      return EXIT.couldNotRun;
    }
    if (err instanceof EngineError || err instanceof AgentError || err instanceof BpfError) {
      console.error(`ebpf-studio: ${err.message}`);
      return EXIT.couldNotRun;
    }
    throw err;
  }
}
