import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { AgentClient, AgentError } from './agent-client';

const PRIVILEGE_FIX = 'the agent loads BPF programs and needs root: run as root, allow `sudo -n` (passwordless) for node, or grant CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON';

/** The agent's script: `agent.js` beside this file when bundled (dist/), else the package layout. */
const BUNDLED_AGENT = join(__dirname, 'agent.js');
export const AGENT_SCRIPT = existsSync(BUNDLED_AGENT) ? BUNDLED_AGENT : join(__dirname, '..', 'agent', 'main.js');

export interface LocalAgentOptions {
  /** Receives the agent's stderr (its log). */
  log?: (line: string) => void;
  /** Prefix with `sudo -n` when not root (default: when getuid() !== 0). */
  sudo?: boolean;
  /** Run the agent under this command, e.g. ['nsenter', '--net=/run/netns/x'] (argument array, no shell). */
  wrapper?: readonly string[];
}

/** Start the agent as a child process of this machine and connect to it. */
export function startLocalAgent(options: LocalAgentOptions = {}): AgentClient {
  const sudo = options.sudo ?? (process.getuid?.() !== 0);
  const argv = [...(sudo ? ['sudo', '-n'] : []), ...(options.wrapper ?? []), process.execPath, AGENT_SCRIPT];
  // Its own process group: a terminal's Ctrl-C reaches only the controller, which then closes its
  // sessions through this agent; the agent ends when its stdin closes.
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  child.stderr.setEncoding('utf8');
  let pending = '';
  let lastLine = '';
  child.stderr.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim()) lastLine = line;
      options.log?.(line);
    }
  });
  child.stdin.on('error', () => undefined);
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const client = new AgentClient(connection, 'local', child);
  child.once('error', (err: NodeJS.ErrnoException) => {
    const what = sudo ? `cannot run sudo (${err.code ?? err.message})` : `cannot start the agent (${err.code ?? err.message})`;
    client.fail(new AgentError(`local agent: ${what}`, { kind: 'PermissionError', fix: PRIVILEGE_FIX }, 'local'));
  });
  // 'close', not 'exit': stderr's last lines (sudo's complaint) arrive before it.
  child.once('close', (code, signal) => {
    if (pending.trim()) {
      lastLine = pending;
      options.log?.(pending);
    }
    const why = /password is required|not in the sudoers|may not run sudo/.test(lastLine)
      ? new AgentError(`local agent: sudo refused (${lastLine.trim()})`, { kind: 'PermissionError', fix: PRIVILEGE_FIX }, 'local')
      : new AgentError(`local agent exited (${signal ?? `code ${code}`})${lastLine ? `: ${lastLine.trim()}` : ''}`, { kind: 'WorkerDied' }, 'local');
    client.fail(why);
  });
  return client;
}
