/**
 * One SSH connection to a node (ssh2), multiplexed for everything the controller does there: exec
 * channels, one SFTP session, port forwards for ProxyJump. Host keys are always verified against
 * known_hosts; Nagle is off (each exec stalls ≈ 88 ms otherwise); keepalives detect a dead peer;
 * session channels are limited to the server's MaxSessions (OpenSSH's default 10).
 */
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { Client, type ClientChannel, type SFTPWrapper } from 'ssh2';
import { describeDestination, resolveDestination, type SshConfigSource, type SshDestination } from './config';
import { SshError, socketError } from './errors';
import { handshake, type HandshakeOptions } from './handshake';

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_SESSIONS = 10;
const MAX_JUMPS = 8;
const SESSION_OPEN_RETRIES = 6;

export interface SshConnectOptions extends HandshakeOptions {
  /** Per phase: TCP connect (or the jump host's forward), then SSH handshake + authentication. Default ConnectTimeout, else 10 s. */
  connectTimeoutMs?: number;
  /** The server's MaxSessions: at most this many session channels (exec, sftp) are open at once. */
  maxSessions?: number;
  /** Resolves ProxyJump hops; required when a destination has any. */
  config?: SshConfigSource;
}

export interface ConnectTimings {
  /** TCP connect (or the forwarded channel through the jump host), ms. */
  readonly tcpMs: number;
  /** From TCP up to authenticated, ms. */
  readonly sshMs: number;
  /** Everything, jump hosts included, ms. */
  readonly totalMs: number;
}

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
  /** null when the server sent no exit status (e.g. killed by a signal). */
  readonly code: number | null;
  readonly signal: string | null;
}

/** Hands out up to `size` slots; waiters are served in order. */
class Slots {
  private used = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly size: number) {}

  async take(): Promise<() => void> {
    if (this.used >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.used += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.used -= 1;
    };
  }
}

/** A TCP socket to host:port, connected within timeoutMs. */
function connectTcp(destination: SshDestination, timeoutMs: number): Promise<Socket> {
  const where = describeDestination(destination);
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new SshError('timeout', `ssh: could not connect to ${where} within ${timeoutMs} ms`, 'is the node up and the address right? (ConnectTimeout / connectTimeoutMs sets the limit)'));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      // Until ssh2 takes the socket over (and reports its errors), an error must not go unhandled.
      socket.on('error', () => undefined);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(socketError(err, where));
    });
    socket.connect({ host: destination.host, port: destination.port });
  });
}

export class SshConnection {
  private readonly sessionSlots: Slots;
  private sftpSession: Promise<SFTPWrapper> | undefined;
  private readonly closeListeners: ((error?: Error) => void)[] = [];
  private ended = false;
  private closeError: Error | undefined;
  private closed: Promise<never> | undefined;

  private constructor(
    private readonly client: Client,
    readonly destination: SshDestination,
    readonly timings: ConnectTimings,
    private readonly transport: Socket | undefined,
    private readonly jump: SshConnection | undefined,
    maxSessions: number,
  ) {
    this.sessionSlots = new Slots(maxSessions);
    client.on('error', (err) => {
      this.closeError ??= err;
    });
    client.once('close', () => {
      this.ended = true;
      void this.jump?.close();
      for (const l of this.closeListeners.splice(0)) l(this.closeError);
    });
    jump?.onClose(() => client.end());
  }

  /** Connects (through ProxyJump hops when configured), verifies the host key and authenticates. */
  static async open(destination: SshDestination, options: SshConnectOptions = {}, depth = 0): Promise<SshConnection> {
    if (depth > MAX_JUMPS) throw new SshError('config', `ssh: more than ${MAX_JUMPS} ProxyJump hops to ${destination.spec} (a loop in the ssh config?)`);
    const started = performance.now();
    const where = describeDestination(destination);
    const timeoutMs = options.connectTimeoutMs ?? destination.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    let jump: SshConnection | undefined;
    let transport: Socket | undefined;
    let sock: Duplex;
    try {
      if (destination.proxyJump.length > 0) {
        if (!options.config) throw new SshError('config', `ssh: ${where} needs ProxyJump ${destination.proxyJump.join(',')} but no ssh config was given to resolve it`);
        const hops = destination.proxyJump;
        const last = resolveDestination(hops[hops.length - 1]!, options.config);
        const jumpDestination = hops.length > 1 ? { ...last, proxyJump: hops.slice(0, -1) } : last;
        jump = await SshConnection.open(jumpDestination, options, depth + 1);
        sock = await jump.forwardOut(destination, timeoutMs);
      } else {
        transport = await connectTcp(destination, timeoutMs);
        sock = transport;
      }
    } catch (err) {
      await jump?.close();
      throw err;
    }
    const tcpMs = performance.now() - started;
    const client = new Client();
    try {
      await handshake(client, destination, options, sock, timeoutMs);
    } catch (err) {
      client.end();
      transport?.destroy();
      await jump?.close();
      throw err;
    }
    client.setNoDelay(true);
    const totalMs = performance.now() - started;
    options.log?.(`ssh: connected to ${where} in ${totalMs.toFixed(0)} ms`);
    return new SshConnection(client, destination, { tcpMs, sshMs: totalMs - tcpMs, totalMs }, transport, jump, options.maxSessions ?? DEFAULT_MAX_SESSIONS);
  }

  get isClosed(): boolean {
    return this.ended;
  }

  onClose(listener: (error?: Error) => void): void {
    if (this.ended) listener(this.closeError);
    else this.closeListeners.push(listener);
  }

  /** Rejects when the connection closes: race SSH operations against it (ssh2 never answers requests made after a drop). */
  whenClosed(): Promise<never> {
    this.closed ??= new Promise<never>((_, reject) => {
      this.onClose((error) => reject(new SshError('disconnected', `ssh: the connection to ${describeDestination(this.destination)} closed${error ? ` (${error.message})` : ''}`)));
    });
    this.closed.catch(() => undefined);
    return this.closed;
  }

  /** Bytes on this machine's TCP connection (for a jumped connection: the first hop's, which carries it). */
  bytes(): { sent: number; received: number } {
    if (this.transport) return { sent: this.transport.bytesWritten, received: this.transport.bytesRead };
    return this.jump?.bytes() ?? { sent: 0, received: 0 };
  }

  private ensureOpen(): void {
    if (this.ended) throw new SshError('disconnected', `ssh: the connection to ${describeDestination(this.destination)} is closed${this.closeError ? ` (${this.closeError.message})` : ''}`);
  }

  /**
   * Opens a session channel in a free slot. sshd frees a closed session only after it has read the
   * next packets, so an open right after a close can be refused for MaxSessions: such refusals are
   * retried with backoff.
   */
  private async openSession<T extends { once(event: 'close', listener: () => void): unknown }>(what: string, open: (cb: (err: Error | undefined, session: T) => void) => void): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      this.ensureOpen();
      const release = await this.sessionSlots.take();
      try {
        const session = await new Promise<T>((resolve, reject) => open((err, s) => (err ? reject(err) : resolve(s))));
        session.once('close', release);
        return session;
      } catch (err) {
        release();
        if (!/open failed/i.test((err as Error).message) || attempt >= SESSION_OPEN_RETRIES) {
          throw new SshError('channel', `ssh: ${describeDestination(this.destination)} refused ${what}: ${(err as Error).message}`, 'the server may allow fewer sessions per connection (MaxSessions), or none of this kind');
        }
        await new Promise((r) => setTimeout(r, 10 * 2 ** attempt));
      }
    }
  }

  /** Runs `command` (a fixed text of ours: never user input) on an exec channel; the slot is freed on close. */
  exec(command: string): Promise<ClientChannel> {
    return this.openSession<ClientChannel>('an exec channel', (cb) => this.client.exec(command, cb));
  }

  /** Runs `command` with no input and collects its output, waiting for the channel's close (not exit: output would be cut). */
  async run(command: string): Promise<CommandResult> {
    const channel = await this.exec(command);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    channel.on('data', (chunk: Buffer) => stdout.push(chunk));
    channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    let code: number | null = null;
    let signal: string | null = null;
    channel.once('exit', (exitCode: number | null, exitSignal?: string) => {
      code = exitCode;
      signal = exitSignal ?? null;
    });
    channel.end();
    await new Promise<void>((resolve) => channel.once('close', () => resolve()));
    return { stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8'), code, signal };
  }

  /** The connection's SFTP session, opened once and shared. */
  sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= this.openSession<SFTPWrapper>('SFTP', (cb) => this.client.sftp(cb)).then((sftp) => {
      // A fatal SFTP error also fails the pending requests and closes the session, which they report.
      sftp.on('error', () => undefined);
      sftp.once('close', () => {
        this.sftpSession = undefined;
      });
      return sftp;
    }, (err: unknown) => {
      this.sftpSession = undefined;
      throw err;
    });
    return this.sftpSession;
  }

  /** A TCP stream from the node to `target` (direct-tcpip; does not use a session slot). */
  forwardOut(target: SshDestination, timeoutMs: number): Promise<ClientChannel> {
    this.ensureOpen();
    const via = describeDestination(this.destination);
    const to = `${target.host}:${target.port}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new SshError('timeout', `ssh: could not connect to ${describeDestination(target)} through ${via} within ${timeoutMs} ms`)), timeoutMs);
      this.client.forwardOut('127.0.0.1', 0, target.host, target.port, (err, channel) => {
        clearTimeout(timer);
        if (err) reject(new SshError('unreachable', `ssh: ${via} could not connect to ${to} for ProxyJump: ${err.message}`));
        else resolve(channel);
      });
    });
  }

  /** Ends the connection (and its jump hosts); resolves when the socket is closed. */
  close(): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((resolve) => {
      this.onClose(() => resolve());
      this.client.end();
    });
  }

  /**
   * Drops the connection at once and discards what is queued to send (a TCP reset): how a cancelled
   * upload stops without the node receiving the megabytes already queued (a closed SFTP channel would
   * still get its whole window, seconds on a slow link). A jumped connection ends its forwarded channel.
   */
  reset(): void {
    this.transport?.resetAndDestroy();
    this.client.destroy();
  }

  /** Drops the connection at once, as a network failure would (tests use it to interrupt work). */
  destroy(): void {
    this.transport?.destroy();
    this.client.destroy();
  }
}
