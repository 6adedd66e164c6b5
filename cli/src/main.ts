import { EngineError } from '@ebpf-studio/server';
import { AgentError, AttachTargetError, InventoryError, SshConfigError, SshError, TargetSyntaxError } from '@ebpf-studio/remote-agent';
import { BpfError } from '@ebpf-studio/libbpf-ts';
import { demoCommand } from './commands/demo';
import { lspCommand } from './commands/lsp';
import { attachCommand } from './commands/attach';
import { nodesCommand } from './commands/nodes';
import { mapsCommand } from './commands/maps';
import { detachCommand, sessionsCommand } from './commands/sessions';
import { statsCommand } from './commands/stats';
import { traceCommand } from './commands/trace';
import { verifyCommand, VERIFY_HELP } from './commands/verify';
import { EXIT, UsageFailure } from './exit-codes';

const HELP = `ebpf-studio — write, verify and run eBPF traffic programs

commands:
  verify FILE...   compile and judge every program with the kernel verifier
  demo             verify the bundled samples against this kernel and print the verdicts
  lsp --stdio      run the language server on stdin/stdout (what the VS Code extension starts)
  nodes            the nodes of ebpf-studio.yaml with their kernel and reachability
  attach FILE      verify, load and attach a program in a session; live stats until Ctrl-C
  sessions         list sessions, their attachments and maps
  detach           detach an attachment, a session's, or all
  maps             show (BTF-decoded) map contents, --watch to follow
  trace            stream ring/perf buffer records or trace_pipe lines
  stats            run counts, average ns and CPU share per attached program
  (each takes --node N for a node from ebpf-studio.yaml, an ssh alias or user@host[:port])

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
      case 'nodes':
        return await nodesCommand(rest);
      case 'attach':
        return await attachCommand(rest);
      case 'sessions':
        return await sessionsCommand(rest);
      case 'detach':
        return await detachCommand(rest);
      case 'maps':
        return await mapsCommand(rest);
      case 'trace':
        return await traceCommand(rest);
      case 'stats':
        return await statsCommand(rest);
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
    if (err instanceof TargetSyntaxError || err instanceof InventoryError || err instanceof AttachTargetError || err instanceof SshConfigError) {
      console.error(`ebpf-studio: ${err.message}`);
      return EXIT.couldNotRun;
    }
    if (err instanceof EngineError || err instanceof AgentError || err instanceof BpfError || err instanceof SshError) {
      console.error(`ebpf-studio: ${err.message}`);
      return EXIT.couldNotRun;
    }
    throw err;
  }
}
