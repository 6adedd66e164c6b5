/**
 * The agent on a node, spoken to over one long-lived exec channel: the start action prints a constant
 * preamble line right before it execs the agent, and everything before that line (shell rc output) is
 * dropped, so only the agent's JSON-RPC frames reach the reader.
 */
import { PassThrough } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { PROTOCOL_VERSION, type AgentInfo } from '../../protocol';
import { AgentClient, AgentError } from '../agent-client';
import { NODE_RUNTIME_VERSION } from '../payload';
import { AGENT_PREAMBLE, bootstrapCommand, START_EXIT } from './bootstrap-script';
import type { SshConnection } from './connection';

/** Shell start-up output tolerated before the preamble. */
const MAX_NOISE_BYTES = 1024 * 1024;
const SUDO_REFUSED = /password is required|not in the sudoers|may not run sudo|a terminal is required|not allowed to execute/;

export interface RemoteAgent {
  readonly client: AgentClient;
  /** Closing it ends the agent (it exits on EOF). */
  readonly channel: ClientChannel;
}

/** Resolves when the preamble has passed: from then on `frames` carries the channel's stdout. */
function skipPreamble(channel: ClientChannel, frames: PassThrough, failed: Promise<never>, where: string): Promise<void> {
  const marker = Buffer.from(`${AGENT_PREAMBLE}\n`);
  return Promise.race([failed, new Promise<void>((resolve, reject) => {
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      seen = Buffer.concat([seen, chunk]);
      const at = seen.indexOf(marker);
      if (at < 0) {
        if (seen.length > MAX_NOISE_BYTES) {
          channel.off('data', onData);
          reject(new AgentError(`${where}: the login shell printed more than ${MAX_NOISE_BYTES} bytes before the agent started`, { kind: 'Error', fix: 'quiet the shell start-up files (~/.bashrc) for non-interactive shells' }, where));
        }
        return;
      }
      channel.off('data', onData);
      frames.write(seen.subarray(at + marker.length));
      channel.pipe(frames);
      resolve();
    };
    channel.on('data', onData);
  })]);
}

function exitError(code: number | null, signal: string | undefined, stderr: string, sudo: boolean, where: string): AgentError {
  const last = stderr.trim().split('\n').pop() ?? '';
  if (code === START_EXIT.incompletePayload) return new AgentError(`${where}: ${last}`, { kind: 'Error', fix: 'connect again: the bootstrap re-uploads an incomplete agent' }, where);
  if (code === START_EXIT.noNode) return new AgentError(`${where}: ${last}`, { kind: 'NotSupportedError', fix: 'connect again: the bootstrap uploads a Node runtime' }, where);
  if (sudo && SUDO_REFUSED.test(stderr)) {
    return new AgentError(`${where}: sudo -n refused to start the agent (${last})`, { kind: 'PermissionError', fix: 'allow passwordless sudo for this user (NOPASSWD), or connect as root' }, where);
  }
  return new AgentError(`${where}: the agent exited (${signal ?? `code ${code}`})${last ? `: ${last}` : ''}`, { kind: 'WorkerDied' }, where);
}

/**
 * Starts the agent from the payload directory and connects to it; the handshake is an `agent/info`
 * request, whose protocol version must be ours.
 */
export async function startRemoteAgent(connection: SshConnection, payloadHash: string, sudo: boolean, where: string, log?: (line: string) => void): Promise<RemoteAgent> {
  const channel = await connection.exec(bootstrapCommand('start', payloadHash, NODE_RUNTIME_VERSION, sudo));
  let stderr = '';
  channel.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-64 * 1024);
    for (const line of chunk.split('\n')) if (line.trim()) log?.(`${where}: ${line}`);
  });
  let exited: AgentError | undefined;
  let onExit: (error: AgentError) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    onExit = reject;
  });
  failed.catch(() => undefined);
  channel.once('exit', (code: number | null, signal?: string) => {
    exited = exitError(code, signal, stderr, sudo, where);
    onExit(exited);
  });
  channel.once('close', () => {
    exited ??= new AgentError(`${where}: the channel to the agent closed`, { kind: 'WorkerDied' }, where);
    onExit(exited);
  });
  const frames = new PassThrough();
  try {
    await skipPreamble(channel, frames, failed, where);
  } catch (err) {
    channel.close();
    throw err;
  }
  const client = new AgentClient(createMessageConnection(new StreamMessageReader(frames), new StreamMessageWriter(channel)), where);
  failed.catch((err: AgentError) => client.fail(err));
  let info: AgentInfo;
  try {
    info = await Promise.race([client.info(), failed]);
  } catch (err) {
    channel.close();
    throw exited ?? err;
  }
  if (info.protocolVersion !== PROTOCOL_VERSION) {
    channel.close();
    throw new AgentError(`${where}: the agent speaks protocol ${info.protocolVersion}, this controller ${PROTOCOL_VERSION}`, { kind: 'Error', fix: 'update ebpf-studio on this machine' }, where);
  }
  return { client, channel };
}
