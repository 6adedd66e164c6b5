import { onProcessExit, pidAlive } from './process-exit';
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Network namespaces for tests: a namespace (or two) joined by a veth pair, addressed from a private /30
 * that does not collide with the machine's routes. Commands run inside with `nsenter --net=` (not
 * `ip netns exec`, which remounts /sys and hides bpffs and tracefs). Names carry the process id, so test
 * files can run in parallel; everything is removed by `remove()`, at process exit, on SIGINT/SIGTERM,
 * and leftovers of dead processes are swept when the next namespace is created.
 */

const NETNS_DIR = '/run/netns';
const NAME_PREFIX = 'ebst-';
/** RFC 2544's benchmarking block: never routed on the internet, rarely used on a real network. */
const POOL_BASE = (198 << 24) | (18 << 16);
const POOL_SUBNETS = (2 << 16) / 4;

export interface ExecOptions {
  input?: string | Uint8Array;
  timeoutMs?: number;
}

/** A network namespace this process created. */
export interface TestNetns {
  readonly name: string;
  /** /run/netns/<name>, for `nsenter --net=<path>`. */
  readonly path: string;
  /** Run a command inside (argument array, no shell); returns stdout, throws on a non-zero exit. */
  exec(cmd: string, args?: readonly string[], options?: ExecOptions): string;
  /** Start a long-running process inside; it is killed by remove(). */
  spawn(cmd: string, args?: readonly string[], options?: SpawnOptions): ChildProcess;
  /** `nsenter --net=<path>` followed by the command: for callers that spawn processes themselves. */
  command(cmd: string, args?: readonly string[]): [string, string[]];
  ifindex(ifname: string): number;
  /** Kills the processes spawned here and deletes the namespace (with its interfaces). Idempotent. */
  remove(): void;
}

/** One end of the veth pair. */
export interface VethEnd {
  /** The namespace the end lives in; undefined for an end in the machine's own namespace. */
  readonly netns: TestNetns | undefined;
  readonly ifname: string;
  readonly ifindex: number;
  readonly address: string;
}

export interface NetnsPair {
  /** The first end, always inside a test namespace: attach programs here (or to `b` when it is in one too). */
  readonly a: VethEnd;
  readonly b: VethEnd;
  /** The /30 both addresses come from, e.g. `198.18.7.4/30`. */
  readonly subnet: string;
  /** Removes both namespaces (the veth pair goes with them). Idempotent. */
  remove(): void;
}

export interface NetnsPairOptions {
  /**
   * Where the second end lives: 'namespace' (default) puts it in a second test namespace; 'host' leaves it
   * in the machine's namespace so host processes (an SSH client) reach `a.address` directly. The host end
   * is the test's own interface and goes away with the namespace; never attach programs to it.
   */
  peer?: 'namespace' | 'host';
  /** A short tag in the names (letters and digits). */
  tag?: string;
}

let counter = 0;



function ip(args: readonly string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}


/** Deletes namespaces left by test processes that died without cleaning up (SIGKILL). */
export function sweepStaleNetns(): void {
  for (const line of ip(['netns', 'list']).split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const match = new RegExp(`^${NAME_PREFIX}[a-z0-9]*-(\\d+)-\\d+[ab]?$`).exec(name);
    if (match && !pidAlive(Number(match[1]))) deleteNetns(name);
  }
}

function deleteNetns(name: string): void {
  const path = `${NETNS_DIR}/${name}`;
  if (!existsSync(path)) return;
  for (const pid of pidsIn(name)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  try {
    ip(['netns', 'delete', name]);
  } catch {
    // deleted concurrently
  }
}

function pidsIn(name: string): number[] {
  try {
    return ip(['netns', 'pids', name]).split('\n').filter((s) => s !== '').map(Number);
  } catch {
    return [];
  }
}

function nextName(tag: string): string {
  counter += 1;
  return `${NAME_PREFIX}${tag.toLowerCase().replace(/[^a-z0-9]/g, '')}-${process.pid}-${counter}`;
}

/** Creates an empty network namespace with its loopback up. */
export function createNetns(tag = ''): TestNetns {
  sweepStaleNetns();
  const name = nextName(tag);
  return openNetns(name);
}

function openNetns(name: string): TestNetns {
  const path = `${NETNS_DIR}/${name}`;
  const children = new Set<ChildProcess>();
  let removed = false;
  const command = (cmd: string, args: readonly string[] = []): [string, string[]] => ['nsenter', [`--net=${path}`, cmd, ...args]];
  const netns: TestNetns = {
    name,
    path,
    command,
    exec(cmd, args = [], options = {}) {
      const [file, argv] = command(cmd, args);
      return execFileSync(file, argv, {
        encoding: 'utf8',
        stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        ...(options.input === undefined ? {} : { input: options.input }),
        ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
        maxBuffer: 64 * 1024 * 1024,
      });
    },
    spawn(cmd, args = [], options = {}) {
      const [file, argv] = command(cmd, args);
      const child = spawn(file, argv, options);
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    ifindex(ifname) {
      const [info] = JSON.parse(ip(['-n', name, '-j', 'link', 'show', 'dev', ifname])) as { ifindex: number }[];
      if (!info) throw new Error(`no interface ${ifname} in ${name}`);
      return info.ifindex;
    },
    remove() {
      if (removed) return;
      removed = true;
      forget();
      for (const child of children) child.kill('SIGKILL');
      deleteNetns(name);
    },
  };
  const forget = onProcessExit(() => netns.remove());
  ip(['netns', 'add', name]);
  ip(['-n', name, 'link', 'set', 'lo', 'up']);
  return netns;
}

function ipv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function parseCidr(cidr: string): [number, number] | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(cidr);
  if (!match) return undefined;
  const [a, b, c, d] = [match[1], match[2], match[3], match[4]].map(Number) as [number, number, number, number];
  const bits = match[5] === undefined ? 32 : Number(match[5]);
  return [((a << 24) | (b << 16) | (c << 8) | d) >>> 0, bits];
}

/** Two prefixes overlap when they agree on the bits of the shorter one (ours is a /30). */
function overlaps(base: number, [net, bits]: [number, number]): boolean {
  const shorter = Math.min(bits, 30);
  const mask = shorter === 0 ? 0 : (~0 << (32 - shorter)) >>> 0;
  return ((base & mask) >>> 0) === ((net & mask) >>> 0);
}

/** A /30 from 198.18.0.0/15 that overlaps no route and no address of the machine. */
export function pickFreeSubnet(): number {
  const used: [number, number][] = [];
  const routes = JSON.parse(ip(['-4', '-j', 'route', 'show', 'table', 'all'])) as { dst: string }[];
  for (const r of routes) {
    const parsed = r.dst === 'default' ? undefined : parseCidr(r.dst);
    if (parsed) used.push(parsed);
  }
  const addrs = JSON.parse(ip(['-4', '-j', 'addr', 'show'])) as { addr_info?: { local: string; prefixlen: number }[] }[];
  for (const link of addrs) for (const a of link.addr_info ?? []) used.push([parseCidr(a.local)![0], a.prefixlen]);
  const start = (process.pid * 7919 + counter * 131 + Math.floor(Math.random() * 1024)) % POOL_SUBNETS;
  for (let i = 0; i < POOL_SUBNETS; i++) {
    const base = (POOL_BASE + ((start + i) % POOL_SUBNETS) * 4) >>> 0;
    if (!used.some((u) => overlaps(base, u))) return base;
  }
  throw new Error('no free /30 in 198.18.0.0/15');
}

/**
 * Two namespaces (or one and the host, see NetnsPairOptions.peer) joined by a veth pair with addresses
 * `.1` (a) and `.2` (b) of a free /30, both ends up.
 */
export function createNetnsPair(options: NetnsPairOptions = {}): NetnsPair {
  const tag = options.tag ?? '';
  const nsA = createNetns(tag);
  const nsB = options.peer === 'host' ? undefined : openNetns(`${nsA.name}b`);
  try {
    const id = `${process.pid.toString(36)}${counter.toString(36)}`;
    const ifA = `vt${id}a`;
    const ifB = `vt${id}b`;
    ip(['link', 'add', ifA, 'netns', nsA.name, 'type', 'veth', 'peer', 'name', ifB, ...(nsB ? ['netns', nsB.name] : [])]);
    const base = pickFreeSubnet();
    const addrA = ipv4(base + 1);
    const addrB = ipv4(base + 2);
    ip(['-n', nsA.name, 'addr', 'add', `${addrA}/30`, 'dev', ifA]);
    ip(['-n', nsA.name, 'link', 'set', ifA, 'up']);
    const inB = nsB ? ['-n', nsB.name] : [];
    ip([...inB, 'addr', 'add', `${addrB}/30`, 'dev', ifB]);
    ip([...inB, 'link', 'set', ifB, 'up']);
    const hostIfindex = (): number => (JSON.parse(ip(['-j', 'link', 'show', 'dev', ifB])) as { ifindex: number }[])[0]!.ifindex;
    let removed = false;
    const pair: NetnsPair = {
      a: { netns: nsA, ifname: ifA, ifindex: nsA.ifindex(ifA), address: addrA },
      b: { netns: nsB, ifname: ifB, ifindex: nsB ? nsB.ifindex(ifB) : hostIfindex(), address: addrB },
      subnet: `${ipv4(base)}/30`,
      remove() {
        if (removed) return;
        removed = true;
        forgetPair();
        // Deleting the link first is synchronous; a namespace's interfaces are destroyed later by the kernel.
        try {
          ip(['-n', nsA.name, 'link', 'delete', ifA]);
        } catch {
          // the namespace is already gone
        }
        nsA.remove();
        nsB?.remove();
      },
    };
    const forgetPair = onProcessExit(() => pair.remove());
    return pair;
  } catch (err) {
    nsA.remove();
    nsB?.remove();
    throw err;
  }
}
