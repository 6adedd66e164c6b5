/**
 * Where and how to connect, from an SSH target and OpenSSH's client configuration (the ssh-config
 * package): ~/.ssh/config then /etc/ssh/ssh_config, or only the `--ssh-config FILE` given (like `ssh -F`).
 * `Include` is expanded; `Match exec` is never run (no shell on the controller either); ProxyCommand is
 * refused in favour of ProxyJump.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir, hostname as localHostname, userInfo } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import type { SSHConfig as SSHConfigClass } from 'ssh-config' with { 'resolution-mode': 'import' };
import { formatSshTarget, parseSshTarget, type SshTarget } from './target';

// ssh-config declares its types for ESM only; its `require` export is the CommonJS build of the same API.
const { SSHConfig } = require('ssh-config') as { SSHConfig: typeof SSHConfigClass };
type SSHConfig = SSHConfigClass;

const DEFAULT_IDENTITIES = ['id_rsa', 'id_ecdsa', 'id_ed25519'];
const SYSTEM_CONFIG = '/etc/ssh/ssh_config';
const MAX_INCLUDE_DEPTH = 16;

export interface SshDestination {
  /** What the user wrote: an alias or user@host[:port]. */
  readonly spec: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Identity files that exist, in the order OpenSSH tries them. */
  readonly identityFiles: readonly string[];
  readonly identitiesOnly: boolean;
  /** ssh-agent socket from IdentityAgent (undefined: $SSH_AUTH_SOCK; 'none': no agent). */
  readonly identityAgent?: string;
  /** known_hosts files to check; new keys are added to the first. */
  readonly userKnownHostsFiles: readonly string[];
  readonly globalKnownHostsFiles: readonly string[];
  /** The name looked up in known_hosts instead of host (HostKeyAlias). */
  readonly hostKeyAlias?: string;
  /** StrictHostKeyChecking accept-new: add unknown host keys (changed ones are always refused). */
  readonly acceptNewHostKey: boolean;
  /** ProxyJump hops, first to last. */
  readonly proxyJump: readonly string[];
  readonly connectTimeoutMs?: number;
  readonly serverAliveIntervalMs?: number;
  readonly serverAliveCountMax?: number;
}

export class SshConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SshConfigError';
  }
}

/** Parsed client configuration: the user's (or -F) file followed by the system-wide one. */
export interface SshConfigSource {
  readonly files: readonly string[];
  readonly config: SSHConfig;
}

function expandTilde(path: string): string {
  return path === '~' ? homedir() : path.startsWith('~/') ? join(homedir(), path.slice(2)) : path;
}

function globToRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

/** Files an Include pattern names (wildcards in the last component), sorted as OpenSSH's glob does. */
function includeTargets(pattern: string, baseDir: string): string[] {
  const path = expandTilde(pattern);
  const absolute = isAbsolute(path) ? path : join(baseDir, path);
  const dir = dirname(absolute);
  const last = absolute.slice(dir.length + 1);
  if (!/[*?]/.test(last)) return existsSync(absolute) ? [absolute] : [];
  if (!existsSync(dir)) return [];
  const re = globToRegExp(last);
  return readdirSync(dir).filter((name) => re.test(name)).sort().map((name) => join(dir, name));
}

/** The file's text with every Include line replaced by the included files' text. */
function expandIncludes(file: string, baseDir: string, depth: number): string {
  if (depth > MAX_INCLUDE_DEPTH) throw new SshConfigError(`${file}: Include nested more than ${MAX_INCLUDE_DEPTH} deep`);
  const text = readFileSync(file, 'utf8');
  return text.split('\n').map((line) => {
    const match = /^\s*Include\s*[=\s]\s*(.+?)\s*$/i.exec(line);
    if (!match) return line;
    const patterns = match[1]!.match(/"[^"]*"|\S+/g) ?? [];
    return patterns.flatMap((p) => includeTargets(p.replace(/^"|"$/g, ''), baseDir)).map((f) => expandIncludes(f, baseDir, depth + 1)).join('\n');
  }).join('\n');
}

/** Reads `file` (like `ssh -F`), or ~/.ssh/config and /etc/ssh/ssh_config when no file is given. */
export function loadSshConfig(file?: string): SshConfigSource {
  const parts: { file: string; base: string }[] = file !== undefined
    ? [{ file: expandTilde(file), base: join(homedir(), '.ssh') }]
    : [{ file: join(homedir(), '.ssh', 'config'), base: join(homedir(), '.ssh') }, { file: SYSTEM_CONFIG, base: '/etc/ssh' }];
  if (file !== undefined && !existsSync(parts[0]!.file)) throw new SshConfigError(`ssh config file ${parts[0]!.file} does not exist`);
  const present = parts.filter((p) => existsSync(p.file));
  // Each file starts at top level: "Host *" closes a Host block the previous file left open.
  const text = present.map((p) => `Host *\n${expandIncludes(p.file, p.base, 0)}`).join('\n');
  let config: SSHConfig;
  try {
    config = SSHConfig.parse(text);
  } catch (err) {
    throw new SshConfigError(`cannot parse ${present.map((p) => p.file).join(', ')}: ${(err as Error).message}`);
  }
  return { files: present.map((p) => p.file), config };
}

type Computed = Record<string, string | string[]>;

function first(computed: Computed, key: string): string | undefined {
  const value = computed[key.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function all(computed: Computed, key: string): string[] {
  const value = computed[key.toLowerCase()];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function seconds(text: string | undefined, what: string): number | undefined {
  if (text === undefined || text === 'none') return undefined;
  if (!/^\d+$/.test(text)) throw new SshConfigError(`${what} ${JSON.stringify(text)} is not a number of seconds`);
  return Number(text) * 1000;
}

/** %-tokens and ~ as OpenSSH expands them in IdentityFile, UserKnownHostsFile and IdentityAgent. */
function expandTokens(value: string, tokens: Record<string, string>): string {
  return expandTilde(value.replace(/%(.)/g, (whole, c: string) => (c === '%' ? '%' : tokens[c] ?? whole)));
}

function yes(value: string | undefined): boolean {
  return value !== undefined && /^(yes|true)$/i.test(value);
}

/** IdentityAgent's value: 'none', SSH_AUTH_SOCK or $VAR (an environment variable), or a socket path. */
function agentSocket(value: string, tokens: Record<string, string>): string {
  if (value === 'none') return 'none';
  const variable = /^\$?\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(value);
  if (variable && (value === 'SSH_AUTH_SOCK' || value.startsWith('$'))) return process.env[variable[1]!] ?? 'none';
  return expandTokens(value, tokens);
}

/** Resolves a target (alias or user@host[:port]) against the configuration. */
export function resolveDestination(spec: string, source: SshConfigSource): SshDestination {
  const target: SshTarget = parseSshTarget(spec);
  const host = target.kind === 'alias' ? target.alias : target.host;
  const computed = source.config.compute(
    target.kind === 'address' ? { Host: host, User: target.user } : { Host: host },
    { ignoreCase: true, matchExec: false },
  ) as Computed;
  if (first(computed, 'ProxyCommand') !== undefined && first(computed, 'ProxyCommand') !== 'none') {
    throw new SshConfigError(`${spec}: ProxyCommand is not supported (it would run a shell command); use ProxyJump`);
  }
  const hostName = first(computed, 'HostName') ?? host;
  const realHost = hostName.replace(/%h/g, host);
  const portText = target.kind === 'address' && target.port !== undefined ? String(target.port) : first(computed, 'Port') ?? '22';
  const port = Number(portText);
  if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new SshConfigError(`${spec}: Port ${JSON.stringify(portText)} is not a port number`);
  const user = (target.kind === 'address' ? target.user : undefined) ?? first(computed, 'User') ?? userInfo().username;
  const tokens: Record<string, string> = {
    d: homedir(), u: userInfo().username, h: realHost, r: user, p: String(port), n: host, l: localHostname().split('.')[0] ?? '', L: localHostname(),
  };
  const configured = all(computed, 'IdentityFile').filter((f) => f !== 'none').map((f) => expandTokens(f, tokens));
  const candidates = configured.length > 0 ? configured : DEFAULT_IDENTITIES.map((f) => join(homedir(), '.ssh', f));
  const agent = first(computed, 'IdentityAgent');
  const knownHosts = all(computed, 'UserKnownHostsFile').flatMap((v) => v.split(/\s+/)).filter((f) => f !== '' && f !== 'none');
  const globalKnownHosts = all(computed, 'GlobalKnownHostsFile').flatMap((v) => v.split(/\s+/)).filter((f) => f !== '' && f !== 'none');
  const jump = first(computed, 'ProxyJump');
  const proxyJump = jump === undefined || jump === 'none' ? [] : jump.split(',').map((hop) => hop.trim().replace(/^ssh:\/\//, ''));
  for (const hop of proxyJump) parseSshTarget(hop);
  const alias = first(computed, 'HostKeyAlias');
  const connectTimeoutMs = seconds(first(computed, 'ConnectTimeout'), 'ConnectTimeout');
  const serverAliveIntervalMs = seconds(first(computed, 'ServerAliveInterval'), 'ServerAliveInterval');
  const countMax = first(computed, 'ServerAliveCountMax');
  return {
    spec: target.kind === 'alias' ? spec : formatSshTarget(target),
    host: realHost,
    port,
    user,
    identityFiles: candidates.filter((f) => existsSync(f)),
    identitiesOnly: yes(first(computed, 'IdentitiesOnly')),
    ...(agent === undefined ? {} : { identityAgent: agentSocket(agent, tokens) }),
    userKnownHostsFiles: (knownHosts.length > 0 ? knownHosts : ['~/.ssh/known_hosts', '~/.ssh/known_hosts2']).map((f) => expandTokens(f, tokens)),
    globalKnownHostsFiles: globalKnownHosts.length > 0 ? globalKnownHosts.map((f) => expandTokens(f, tokens)) : ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
    ...(alias === undefined ? {} : { hostKeyAlias: alias }),
    acceptNewHostKey: first(computed, 'StrictHostKeyChecking')?.toLowerCase() === 'accept-new',
    proxyJump,
    ...(connectTimeoutMs === undefined ? {} : { connectTimeoutMs }),
    ...(serverAliveIntervalMs === undefined ? {} : { serverAliveIntervalMs }),
    ...(countMax !== undefined && /^\d+$/.test(countMax) ? { serverAliveCountMax: Number(countMax) } : {}),
  };
}

/** `user@host:port` of a destination, for messages. */
export function describeDestination(d: SshDestination): string {
  const host = d.host.includes(':') ? `[${d.host}]` : d.host;
  const where = `${d.user}@${host}:${d.port}`;
  return d.spec === where ? where : `${d.spec} (${where})`;
}
