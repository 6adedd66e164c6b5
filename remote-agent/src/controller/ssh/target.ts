/**
 * What a user may write where an SSH destination is expected: an ssh_config alias (or plain host name)
 * or `user@host[:port]`. Only letters, digits, '.', '_' and '-' (IPv6 in brackets): anything else — shell
 * metacharacters, spaces, quotes, a leading '-' that would read as an option — is rejected here, before
 * any connection, so such a name can never reach a shell on either side.
 */

export type SshTarget =
  | { readonly kind: 'alias'; readonly alias: string }
  | { readonly kind: 'address'; readonly user: string; readonly host: string; readonly port?: number };

const WORD = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const IPV6 = /^\[[0-9A-Fa-f:.]+\]$/;
const ADDRESS = /^([^@]+)@(\[[^\]]*\]|[^:]+)(?::([^:]*))?$/;
const MAX_LENGTH = 253;

export class TargetSyntaxError extends Error {
  constructor(readonly input: string, reason: string) {
    super(`${JSON.stringify(input)} is not a node name, an ssh alias or user@host[:port]: ${reason}`);
    this.name = 'TargetSyntaxError';
  }
}

function offending(text: string): string {
  const bad = [...text].find((c) => !/[A-Za-z0-9._@:[\]-]/.test(c));
  if (bad === undefined) return 'letters, digits, ".", "_" and "-" only, not starting with "-" or "."';
  const shown = bad === ' ' ? 'a space' : /\s/.test(bad) ? 'a control character' : `"${bad}"`;
  return `${shown} is not allowed (letters, digits, ".", "_" and "-" only)`;
}

/** A name (node, cluster, alias, user): letters, digits, '.', '_', '-', not starting with '-' or '.'. */
export function isPlainName(text: string): boolean {
  return text.length <= MAX_LENGTH && WORD.test(text);
}

export function parseSshTarget(input: string): SshTarget {
  if (input.length === 0) throw new TargetSyntaxError(input, 'it is empty');
  if (input.length > MAX_LENGTH) throw new TargetSyntaxError(input, `longer than ${MAX_LENGTH} characters`);
  if (isPlainName(input)) return { kind: 'alias', alias: input };
  const match = ADDRESS.exec(input);
  if (!match) throw new TargetSyntaxError(input, offending(input));
  const [, user = '', host = '', portText] = match;
  if (!isPlainName(user)) throw new TargetSyntaxError(input, `user ${JSON.stringify(user)}: ${offending(user)}`);
  if (!isPlainName(host) && !IPV6.test(host)) throw new TargetSyntaxError(input, `host ${JSON.stringify(host)}: ${offending(host)}`);
  if (portText === undefined) return { kind: 'address', user, host: host.replace(/^\[|\]$/g, '') };
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new TargetSyntaxError(input, `port ${JSON.stringify(portText)} is not a number from 1 to 65535`);
  return { kind: 'address', user, host: host.replace(/^\[|\]$/g, ''), port };
}

export function formatSshTarget(target: SshTarget): string {
  if (target.kind === 'alias') return target.alias;
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${target.user}@${host}${target.port === undefined ? '' : `:${target.port}`}`;
}
