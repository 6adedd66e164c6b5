import { EngineError } from '@ebpf-studio/server';
import { AgentError, AttachTargetError, InventoryError, SshConfigError, SshError, TargetSyntaxError } from '@ebpf-studio/remote-agent';
import { BpfError } from '@ebpf-studio/libbpf-ts';
import { demoCommand } from './commands/demo';
import { exploreCommand } from './commands/explore';
import { lspCommand } from './commands/lsp';
import { attachCommand } from './commands/attach';
import { applyCommand } from './commands/apply';
import { healthCommand } from './commands/health';
import { newCommand } from './commands/new';
import { runCommand } from './commands/run';
import { statusCommand } from './commands/status';
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
  demo             verify the bundled samples, then split real traffic across two clusters and fail over
  explore FILE     the Verifier Explorer in a browser: source, verified instructions, register state
  lsp --stdio      run the language server on stdin/stdout (what the VS Code extension starts)
  nodes            the nodes of ebpf-studio.yaml with their kernel and reachability
  attach FILE      verify, load and attach a program in a session; live stats until Ctrl-C
  sessions         list sessions, their attachments and maps
  detach           detach an attachment, a session's, or all
  maps             show (BTF-decoded) map contents, --watch to follow
  trace            stream ring/perf buffer records or trace_pipe lines
  stats            run counts, average ns and CPU share per attached program
  (each takes --node N for a node from ebpf-studio.yaml, an ssh alias or user@host[:port])
  new T DIR        scaffold a project from a template (new --list: the templates)
  run DIR          verify, load and attach a project as its ebpf-studio.yaml says, write its policy;
                   live split until Ctrl-C (--exec -- CMD ARGS... runs CMD inside its cgroup; --node N)
  apply DIR        write a changed policy into the running maps, without reloading
  status DIR       per service and cluster: counts, live split, the policy's split (--json)
  health DIR S T up|down   mark cluster or endpoint T of service S down or up (maps follow at once)

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
      case 'explore':
        return await exploreCommand(rest);
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
      case 'new':
        return await newCommand(rest);
      case 'run':
        return await runCommand(rest);
      case 'apply':
        return await applyCommand(rest);
      case 'status':
        return await statusCommand(rest);
      case 'health':
        return await healthCommand(rest);
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
