import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { AgentClient } from './agent-client';

export const AGENT_SCRIPT = join(__dirname, '..', 'agent', 'main.js');

export interface LocalAgentOptions {
  /** Receives the agent's stderr (its log). */
  log?: (line: string) => void;
  /** Prefix with `sudo -n` when not root (default: when getuid() !== 0). */
  sudo?: boolean;
}

/** Start the agent as a child process of this machine and connect to it. */
export function startLocalAgent(options: LocalAgentOptions = {}): AgentClient {
  const sudo = options.sudo ?? (process.getuid?.() !== 0);
  const command = sudo ? 'sudo' : process.execPath;
  const args = sudo ? ['-n', process.execPath, AGENT_SCRIPT] : [AGENT_SCRIPT];
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stderr.setEncoding('utf8');
  let pending = '';
  child.stderr.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) options.log?.(line);
  });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const client = new AgentClient(connection, 'local', child);
  child.once('exit', () => {
    if (pending) options.log?.(pending);
    connection.dispose();
  });
  return client;
}
