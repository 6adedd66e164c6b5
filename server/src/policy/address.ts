import { isIPv4, isIPv6 } from 'node:net';

/**
 * Socket addresses as the policy file writes them: `127.100.0.20:80`, `[fd00::20]:80`. The bytes are what
 * the BPF maps hold: 16 bytes in network order, an IPv4 address in the first four and zeros after.
 */

export type Family = 4 | 6;

export interface SocketAddress {
  readonly family: Family;
  /** The address in canonical text (IPv6 compressed, lower case). */
  readonly host: string;
  readonly port: number;
  readonly bytes: Uint8Array;
  /** `host:port`, or `[host]:port` for IPv6: the canonical spelling, used as the endpoint's name. */
  readonly text: string;
}

const HOST_PORT = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/;

function ipv4Bytes(host: string): Uint8Array {
  return Uint8Array.from(host.split('.').map(Number));
}

function ipv6Bytes(host: string): Uint8Array {
  // An embedded IPv4 tail (::ffff:10.0.0.1) becomes its two hex groups first.
  const text = host.toLowerCase().replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a: string, b: string, c: string, d: string) =>
    `${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}`);
  const groups = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const gap = text.indexOf('::');
  const left = groups(gap < 0 ? text : text.slice(0, gap));
  const right = gap < 0 ? [] : groups(text.slice(gap + 2));
  const words = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  return out;
}

/** RFC 5952 text of 16 address bytes: lower case, the longest run of zero groups (two or more) as `::`. */
function ipv6Text(bytes: Uint8Array): string {
  const words = Array.from({ length: 8 }, (_, i) => (bytes[i * 2]! << 8) | bytes[i * 2 + 1]!);
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Parses `a.b.c.d:port` or `[v6]:port`; returns a message saying what is wrong instead. */
export function parseSocketAddress(text: string): SocketAddress | string {
  const match = HOST_PORT.exec(text.trim());
  if (!match) return `"${text}" is not an address:port (write 10.0.0.1:80, or [fd00::1]:80 for IPv6)`;
  const bracketed = match[1];
  const host = bracketed ?? match[2]!;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return `port ${match[3]} of "${text}" is outside 1-65535`;
  if (bracketed !== undefined) {
    if (!isIPv6(host)) return `"${host}" in "${text}" is not an IPv6 address`;
    const bytes = ipv6Bytes(host);
    const canonical = ipv6Text(bytes);
    return { family: 6, host: canonical, port, bytes, text: `[${canonical}]:${port}` };
  }
  if (isIPv6(host)) return `write the IPv6 address of "${text}" in brackets: [${host}]:${port}`;
  if (!isIPv4(host)) return `"${host}" in "${text}" is not an IPv4 address (names are not resolved: write the address)`;
  const bytes = new Uint8Array(16);
  bytes.set(ipv4Bytes(host), 0);
  return { family: 4, host, port, bytes, text: `${host}:${port}` };
}

/** The address 16 map bytes and a family hold, as policy text (`10.0.0.1:80`, `[fd00::1]:80`). */
export function formatSocketAddress(family: Family, bytes: Uint8Array, port: number): string {
  return family === 4 ? `${[...bytes.subarray(0, 4)].join('.')}:${port}` : `[${ipv6Text(bytes.subarray(0, 16))}]:${port}`;
}

/** An IP address (no port) as its 4 or 16 bytes in network order; undefined when it is not one. */
export function ipAddressBytes(text: string): { family: Family; bytes: Uint8Array } | undefined {
  if (isIPv4(text)) return { family: 4, bytes: ipv4Bytes(text) };
  if (isIPv6(text)) return { family: 6, bytes: ipv6Bytes(text) };
  return undefined;
}

/** An IP address in the 16 bytes the maps hold: IPv4 in the first four, zeros after. Throws on anything else. */
export function addressWords(text: string): Uint8Array {
  const ip = ipAddressBytes(text);
  if (!ip) throw new RangeError(`not an IP address: ${text}`);
  const out = new Uint8Array(16);
  out.set(ip.bytes);
  return out;
}

/** `aa:bb:cc:dd:ee:ff` as 6 bytes; undefined when it is not a MAC address. */
export function macBytes(text: string): Uint8Array | undefined {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(text)) return undefined;
  return Uint8Array.from(text.split(':').map((h) => parseInt(h, 16)));
}
