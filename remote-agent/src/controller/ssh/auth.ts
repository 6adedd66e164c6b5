/**
 * Public-key authentication in OpenSSH's order: the ssh-agent's keys, then identity files (skipping
 * keys the agent already offered). IdentitiesOnly limits the agent to keys whose public half matches an
 * identity file. An encrypted identity file asks the caller's passphrase callback — never a terminal.
 * Every key offered and every key skipped is recorded, so an authentication failure can say what was tried.
 */
import { readFileSync } from 'node:fs';
import { BaseAgent, OpenSSHAgent, utils, type AnyAuthMethod, type AuthenticationType, type AuthHandlerMiddleware, type NextAuthHandler, type ParsedKey, type SignCallback, type SigningRequestOptions } from 'ssh2';
import type { SshDestination } from './config';
import { fingerprint } from './known-hosts';

export interface AuthOptions {
  /** ssh-agent socket; default IdentityAgent, else $SSH_AUTH_SOCK; null: use no agent. */
  agentSocket?: string | null;
  /** Asked for the passphrase of an encrypted identity file; undefined skips that key. */
  passphrase?: (keyFile: string) => Promise<string | undefined>;
}

/** The agent's keys, possibly filtered: ssh2 signs through the real agent. */
class ListedAgent extends BaseAgent<ParsedKey> {
  constructor(private readonly agent: OpenSSHAgent, readonly keys: readonly ParsedKey[]) {
    super();
  }

  getIdentities(cb: (err: Error | undefined, keys?: ParsedKey[]) => void): void {
    cb(undefined, [...this.keys]);
  }

  sign(pubKey: ParsedKey, data: Buffer, options: SigningRequestOptions | SignCallback, cb?: SignCallback): void {
    if (typeof options === 'function') this.agent.sign(pubKey, data, options);
    else this.agent.sign(pubKey, data, options, cb);
  }
}

function agentKeys(agent: OpenSSHAgent): Promise<ParsedKey[]> {
  return new Promise((resolve) => {
    agent.getIdentities((err, keys) => resolve(err ? [] : ((keys ?? []) as ParsedKey[])));
  });
}

function publicBlob(key: ParsedKey): Buffer {
  return key.getPublicSSH();
}

function describe(key: ParsedKey): string {
  return `${key.type} ${fingerprint(publicBlob(key))}`;
}

/** The public half of an identity file: from `<file>.pub`, or the private file when it is not encrypted. */
function identityPublicBlob(file: string): Buffer | undefined {
  try {
    const [, base64] = readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/);
    if (base64) return Buffer.from(base64, 'base64');
  } catch {
    // no .pub beside it
  }
  try {
    const parsed = utils.parseKey(readFileSync(file));
    const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
    return key instanceof Error || key === undefined ? undefined : publicBlob(key);
  } catch {
    return undefined;
  }
}

type Step = () => Promise<AnyAuthMethod | undefined>;

export class AuthPlan {
  /** What was offered to the server, and what was skipped and why, in order. */
  readonly tried: string[] = [];
  /** The methods the server said it accepts (from its last failure message). */
  serverMethods: readonly string[] = [];
  private readonly steps: Step[] = [];
  private promptDepth = 0;
  private offeredByAgent: Buffer[] = [];

  private constructor(private readonly destination: SshDestination, private readonly options: AuthOptions, private readonly onPrompt: (waiting: boolean) => void) {}

  /**
   * Plans the attempts for a destination. `onPrompt(true/false)` brackets time spent in the passphrase
   * callback (so connect timeouts can leave it out).
   */
  static async create(destination: SshDestination, options: AuthOptions, onPrompt: (waiting: boolean) => void): Promise<AuthPlan> {
    const plan = new AuthPlan(destination, options, onPrompt);
    await plan.planAgent();
    plan.planFiles();
    return plan;
  }

  private agentSocket(): string | undefined {
    if (this.options.agentSocket === null) return undefined;
    const socket = this.options.agentSocket ?? this.destination.identityAgent ?? process.env['SSH_AUTH_SOCK'];
    return socket === undefined || socket === '' || socket === 'none' ? undefined : socket;
  }

  private async planAgent(): Promise<void> {
    const socket = this.agentSocket();
    if (socket === undefined) return;
    const agent = new OpenSSHAgent(socket);
    let keys = await agentKeys(agent);
    if (this.destination.identitiesOnly) {
      const wanted = this.destination.identityFiles.map(identityPublicBlob).filter((b): b is Buffer => b !== undefined);
      keys = keys.filter((k) => wanted.some((w) => w.equals(publicBlob(k))));
    }
    if (keys.length === 0) {
      this.tried.push(`ssh-agent at ${socket}: no ${this.destination.identitiesOnly ? 'key matching an IdentityFile (IdentitiesOnly)' : 'keys'}`);
      return;
    }
    this.offeredByAgent = keys.map(publicBlob);
    this.steps.push(async () => {
      this.tried.push(...keys.map((k) => `ssh-agent key ${describe(k)}${k.comment ? ` (${k.comment})` : ''}`));
      return { type: 'agent', username: this.destination.user, agent: new ListedAgent(agent, keys) };
    });
  }

  private planFiles(): void {
    for (const file of this.destination.identityFiles) {
      this.steps.push(() => this.fileStep(file));
    }
  }

  private async fileStep(file: string): Promise<AnyAuthMethod | undefined> {
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch (err) {
      this.tried.push(`${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      return undefined;
    }
    let parsed = utils.parseKey(data);
    if (parsed instanceof Error && /encrypted/i.test(parsed.message)) {
      if (!this.options.passphrase) {
        this.tried.push(`${file}: encrypted, and no passphrase callback was given (load it into ssh-agent)`);
        return undefined;
      }
      const passphrase = await this.ask(file);
      if (passphrase === undefined) {
        this.tried.push(`${file}: encrypted, no passphrase given`);
        return undefined;
      }
      parsed = utils.parseKey(data, passphrase);
      if (parsed instanceof Error) {
        this.tried.push(`${file}: wrong passphrase (${parsed.message})`);
        return undefined;
      }
    }
    const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | Error | undefined) : parsed;
    if (key === undefined || key instanceof Error) {
      this.tried.push(`${file}: not a usable private key (${key?.message ?? 'empty'})`);
      return undefined;
    }
    const blob = publicBlob(key);
    if (this.offeredByAgent.some((b) => b.equals(blob))) return undefined;
    this.tried.push(`${file} (${describe(key)})`);
    return { type: 'publickey', username: this.destination.user, key };
  }

  private async ask(file: string): Promise<string | undefined> {
    this.promptDepth += 1;
    if (this.promptDepth === 1) this.onPrompt(true);
    try {
      return await this.options.passphrase!(file);
    } catch {
      return undefined;
    } finally {
      this.promptDepth -= 1;
      if (this.promptDepth === 0) this.onPrompt(false);
    }
  }

  /** The ssh2 authHandler that walks the plan. */
  handler(): AuthHandlerMiddleware {
    let index = 0;
    return (authsLeft: AuthenticationType[], _partial: boolean, next: NextAuthHandler) => {
      // ssh2 passes null before the first attempt.
      const methodsLeft = authsLeft as AuthenticationType[] | null;
      if (methodsLeft) this.serverMethods = methodsLeft;
      const done = next as (method: AnyAuthMethod | false) => void;
      const advance = async (): Promise<void> => {
        while (index < this.steps.length) {
          if (methodsLeft && !methodsLeft.includes('publickey')) break;
          const method = await this.steps[index++]!();
          if (method) return done(method);
        }
        done(false);
      };
      void advance();
    };
  }
}
