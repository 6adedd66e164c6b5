import { onProcessExit, pidAlive } from '../process-exit';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNetns, createNetnsPair, pickFreeSubnet, type NetnsPair, type TestNetns } from '../netns';
import { NODE_USER, writeAccountFiles } from './accounts';
import { generateKey, knownHostsName, writeHashedKnownHosts, type KeyPair } from './keys';
import { generateHostKeys, scanHostKey, SSH_PORTS, sshdPaths, startSshd, writeSshdConfig } from './sshd';

/**
 * Network namespaces made into the nodes of test clusters. Each node has
 * - a management veth whose other end is in the machine's namespace (the controller connects there),
 * - a data veth whose other end is in its cluster's namespace (which routes between the cluster's nodes),
 * - its own mount namespace with a private /run, HOME (/root) and /tmp, and account files with one
 *   more user (`studio`, no sudo rights); optionally Node.js, kernel BTF or libbpf hidden,
 * - an sshd started with nsenter (not `ip netns exec`, which remounts /sys) on ports 22 and 2222.
 * The harness writes an ssh_config with one Host alias per node, a hashed known_hosts, the user keys and an
 * ebpf-studio.yaml. `remove()` kills every process in the namespaces (sshd, sessions, agents), deletes
 * the namespaces and the files; so do process exit and SIGINT/SIGTERM. Names carry the process id.
 */

const BASE_DIR = '/var/tmp';
const DIR_PREFIX = 'ebst-nodes-';
const NAME = /^[a-z0-9][a-z0-9-]{0,30}$/;
export const ENCRYPTED_KEY_PASSPHRASE = 'correct horse battery staple';

export interface TestNodesOptions {
  /** Cluster name → its node names (lowercase letters, digits, '-'). */
  clusters: Readonly<Record<string, readonly string[]>>;
  /** Nodes on which `node` is not runnable (the bootstrap must bring its own runtime). */
  hideNode?: readonly string[];
  /** Nodes whose kernel seems to have no BTF (/sys/kernel/btf is empty inside). */
  hideBtf?: readonly string[];
  /** Nodes without libbpf.so.1 (the library and the loader cache are hidden inside). */
  hideLibbpf?: readonly string[];
}

export interface TestNode {
  readonly name: string;
  readonly cluster: string;
  readonly netns: TestNetns;
  /** Where the node's sshd is reached from the machine (ports 22 and 2222). */
  readonly mgmtAddress: string;
  /** The interface inside the node carrying mgmtAddress. */
  readonly mgmtIfname: string;
  /** The node's address on its cluster's data network (sshd listens here too). */
  readonly dataAddress: string;
  readonly dataIfname: string;
  readonly hostKeys: readonly KeyPair[];
  /** Root's HOME inside the node, as a path on the machine. */
  readonly rootHome: string;
  /** The unprivileged user's name and HOME (a path valid on the machine and inside the node). */
  readonly user: string;
  readonly userHome: string;
  readonly sshdLog: string;
  readonly nodeHidden: boolean;
  /** Runs a command inside the node's network and mount namespaces (argument array, no shell). */
  exec(cmd: string, args?: readonly string[]): string;
  /** Takes the management link down inside the node: the controller's packets vanish (a partition). */
  cutManagement(): void;
  restoreManagement(): void;
  /**
   * Limits what the node receives on its management link (the controller's uploads) to `bytesPerSecond`:
   * inside the node's namespace, the link's ingress is redirected to an ifb device that tbf shapes.
   */
  limitManagementIngress(bytesPerSecond: number): void;
  /** Removes that limit (the ifb device and the ingress qdisc). */
  unlimitManagementIngress(): void;
  /** Processes whose network namespace is the node's (sshd, its sessions and subsystems, agents). */
  processes(): { pid: number; command: string }[];
  /** New host keys for sshd (the known_hosts file keeps the old ones); resolves when sshd serves them. */
  rotateHostKeys(): Promise<KeyPair[]>;
}

export interface TestNodes {
  readonly dir: string;
  readonly nodes: readonly TestNode[];
  node(name: string): TestNode;
  /** The namespace of each cluster's data network. */
  readonly clusterNetns: Readonly<Record<string, TestNetns>>;
  /** `ssh -F` file: one Host alias per node (root), and `Host *` with the identity and known_hosts. */
  readonly sshConfig: string;
  readonly knownHosts: string;
  readonly inventory: string;
  /** Authorized on every node for root and the unprivileged user. */
  readonly userKey: KeyPair;
  /** Also authorized; encrypted with ENCRYPTED_KEY_PASSPHRASE. */
  readonly encryptedUserKey: KeyPair;
  /** Authorized nowhere. */
  readonly strangerKey: KeyPair;
  remove(): void;
}





/** Removes the directories of harness runs whose process died without cleaning up. */
export function sweepStaleNodeDirs(): void {
  for (const name of readdirSync(BASE_DIR)) {
    const match = new RegExp(`^${DIR_PREFIX}(\\d+)-`).exec(name);
    if (match && !pidAlive(Number(match[1]))) rmSync(join(BASE_DIR, name), { recursive: true, force: true });
  }
}

function ip(args: readonly string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tc(args: readonly string[]): string {
  return execFileSync('tc', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The ifb device that shapes a node's management ingress (a name of the node's own namespace). */
const SHAPER = 'ifb-mgmt';

function limitIngress(netns: TestNetns, ifname: string, bytesPerSecond: number): void {
  ip(['-n', netns.name, 'link', 'add', SHAPER, 'type', 'ifb']);
  ip(['-n', netns.name, 'link', 'set', SHAPER, 'up']);
  // burst above the largest (GRO-merged) packet; latency bounds the queue
  tc(['-n', netns.name, 'qdisc', 'add', 'dev', SHAPER, 'root', 'tbf', 'rate', `${bytesPerSecond * 8}bit`, 'burst', '131072', 'latency', '200ms']);
  tc(['-n', netns.name, 'qdisc', 'add', 'dev', ifname, 'handle', 'ffff:', 'ingress']);
  tc(['-n', netns.name, 'filter', 'add', 'dev', ifname, 'parent', 'ffff:', 'protocol', 'all', 'u32', 'match', 'u32', '0', '0', 'action', 'mirred', 'egress', 'redirect', 'dev', SHAPER]);
}

function unlimitIngress(netns: TestNetns, ifname: string): void {
  tc(['-n', netns.name, 'qdisc', 'del', 'dev', ifname, 'handle', 'ffff:', 'ingress']);
  ip(['-n', netns.name, 'link', 'del', SHAPER]);
}

/** Processes in the network namespace at `path`, from /proc. */
function processesIn(path: string): { pid: number; command: string }[] {
  const wanted = `net:[${statSync(path).ino}]`;
  const found: { pid: number; command: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/ns/net`) === wanted) found.push({ pid: Number(name), command: readFileSync(`/proc/${name}/comm`, 'utf8').trim() });
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

function ipv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** The machine's libbpf.so.1 (the file the loader opens) and the loader cache that lists it. */
function libbpfFiles(): string[] {
  const listed = execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }).split('\n')
    .map((line) => /libbpf\.so\.1 .*=> (\S+)/.exec(line)?.[1])
    .filter((p): p is string => p !== undefined);
  return [...new Set(listed.map((p) => realpathSync(p))), '/etc/ld.so.cache'];
}

/** Paths of `node` on the machine's PATH: what a hidden-Node node covers. */
function nodeExecutables(): string[] {
  const found = new Set<string>();
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    try {
      execFileSync('test', ['-x', join(dir, 'node')]);
      found.add(join(dir, 'node'));
    } catch {
      // not there
    }
  }
  return [...found];
}

interface DataLink {
  nodeAddress: string;
  peerAddress: string;
  nodeIfname: string;
}

let linkCounter = 0;

/** A veth from the node to its cluster's namespace, from a /30 no other data link of this run uses. */
function createDataLink(node: TestNetns, cluster: TestNetns, used: Set<number>): DataLink {
  let base = pickFreeSubnet();
  while (used.has(base)) base = pickFreeSubnet();
  used.add(base);
  linkCounter += 1;
  const id = `${process.pid.toString(36)}${linkCounter.toString(36)}`;
  const nodeIfname = `vd${id}a`;
  const peerIfname = `vd${id}b`;
  ip(['link', 'add', nodeIfname, 'netns', node.name, 'type', 'veth', 'peer', 'name', peerIfname, 'netns', cluster.name]);
  const nodeAddress = ipv4(base + 1);
  const peerAddress = ipv4(base + 2);
  ip(['-n', node.name, 'addr', 'add', `${nodeAddress}/30`, 'dev', nodeIfname]);
  ip(['-n', node.name, 'link', 'set', nodeIfname, 'up']);
  ip(['-n', cluster.name, 'addr', 'add', `${peerAddress}/30`, 'dev', peerIfname]);
  ip(['-n', cluster.name, 'link', 'set', peerIfname, 'up']);
  return { nodeAddress, peerAddress, nodeIfname };
}

function sshConfigText(nodes: readonly TestNode[], userKey: KeyPair, knownHosts: string): string {
  const hosts = nodes.map((n) => `Host ${n.name}\n  HostName ${n.mgmtAddress}\n  Port ${SSH_PORTS[0]}\n  User root\n`);
  const defaults = `Host *\n  IdentityFile ${userKey.privatePath}\n  IdentitiesOnly yes\n  UserKnownHostsFile ${knownHosts}\n  StrictHostKeyChecking yes\n  ConnectTimeout 5\n`;
  return [...hosts, defaults].join('\n');
}

function inventoryText(clusters: Readonly<Record<string, readonly string[]>>): string {
  const lines = ['# Written by the test harness (test-support/src/nodes).', 'clusters:'];
  for (const [cluster, names] of Object.entries(clusters)) {
    lines.push(`  ${cluster}:`, '    nodes:');
    for (const name of names) lines.push(`      - name: ${name}`, `        ssh: ${name}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Builds the clusters' nodes, each with a running sshd. */
export async function createTestNodes(options: TestNodesOptions): Promise<TestNodes> {
  const names = Object.entries(options.clusters).flatMap(([cluster, nodes]) => [cluster, ...nodes]);
  const bad = names.find((n) => !NAME.test(n));
  if (bad !== undefined) throw new Error(`test node or cluster name ${JSON.stringify(bad)}: use lowercase letters, digits and '-'`);
  sweepStaleNodeDirs();
  const dir = mkdtempSync(join(BASE_DIR, `${DIR_PREFIX}${process.pid}-`));
  chmodSync(dir, 0o755);
  const pairs: NetnsPair[] = [];
  const clusterNetns: Record<string, TestNetns> = {};
  let removed = false;
  const remove = (): void => {
    if (removed) return;
    removed = true;
    forget();
    for (const pair of pairs) pair.remove();
    for (const netns of Object.values(clusterNetns)) netns.remove();
    rmSync(dir, { recursive: true, force: true });
  };
  const nodes: TestNode[] = [];
  const harness: TestNodes = {
    dir,
    nodes,
    node(name) {
      const node = nodes.find((n) => n.name === name);
      if (!node) throw new Error(`no test node ${name}`);
      return node;
    },
    clusterNetns,
    sshConfig: join(dir, 'ssh_config'),
    knownHosts: join(dir, 'known_hosts'),
    inventory: join(dir, 'ebpf-studio.yaml'),
    userKey: generateKey(join(dir, 'id_ed25519'), 'ed25519', { comment: 'ebpf-studio-test-user' }),
    encryptedUserKey: generateKey(join(dir, 'id_ecdsa_encrypted'), 'ecdsa', { passphrase: ENCRYPTED_KEY_PASSPHRASE }),
    strangerKey: generateKey(join(dir, 'id_stranger'), 'ed25519', { comment: 'not authorized' }),
    remove,
  };
  const forget = onProcessExit(() => harness.remove());
  try {
    const hiddenNode = nodeExecutables();
    const usedData = new Set<number>();
    const dataPeers = new Map<string, string>();
    for (const [cluster, nodeNames] of Object.entries(options.clusters)) {
      const fabric = createNetns(`${cluster}fab`);
      clusterNetns[cluster] = fabric;
      execFileSync(...fabric.command('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']));
      for (const name of nodeNames) {
        const pair = createNetnsPair({ peer: 'host', tag: name });
        pairs.push(pair);
        const netns = pair.a.netns!;
        const data = createDataLink(netns, fabric, usedData);
        const nodeDir = join(dir, name);
        const paths = sshdPaths(nodeDir);
        const userHome = join(nodeDir, 'studio-home');
        for (const d of [nodeDir, paths.rootHome, paths.tmp, userHome]) mkdirSync(d, { recursive: true, mode: 0o755 });
        chmodSync(paths.tmp, 0o1777);
        chmodSync(paths.rootHome, 0o700);
        const accounts = writeAccountFiles(nodeDir, userHome);
        chownSync(userHome, accounts.uid, accounts.uid);
        let hostKeys = generateHostKeys(paths);
        writeFileSync(paths.authorizedKeys, `${harness.userKey.publicKey}\n${harness.encryptedUserKey.publicKey}\n`, { mode: 0o644 });
        writeSshdConfig(paths);
        const nodeHidden = options.hideNode?.includes(name) ?? false;
        const mounts = {
          emptied: options.hideBtf?.includes(name) ? ['/sys/kernel/btf'] : [],
          hidden: [...(nodeHidden ? hiddenNode : []), ...(options.hideLibbpf?.includes(name) ? libbpfFiles() : [])],
        };
        const sshd = await startSshd(netns, paths, accounts, mounts, pair.a.address);
        const inNode = (cmd: string, args: readonly string[] = []): [string, string[]] =>
          ['nsenter', [`--net=${netns.path}`, `--mount=/proc/${sshd.pid}/ns/mnt`, cmd, ...args]];
        nodes.push({
          name,
          cluster,
          netns,
          mgmtAddress: pair.a.address,
          mgmtIfname: pair.a.ifname,
          dataAddress: data.nodeAddress,
          dataIfname: data.nodeIfname,
          get hostKeys() {
            return hostKeys;
          },
          rootHome: paths.rootHome,
          user: NODE_USER,
          userHome,
          sshdLog: paths.log,
          nodeHidden,
          exec: (cmd, args = []) => execFileSync(...inNode(cmd, args), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
          cutManagement: () => ip(['-n', netns.name, 'link', 'set', 'dev', pair.a.ifname, 'down']),
          restoreManagement: () => ip(['-n', netns.name, 'link', 'set', 'dev', pair.a.ifname, 'up']),
          limitManagementIngress: (bytesPerSecond) => limitIngress(netns, pair.a.ifname, bytesPerSecond),
          unlimitManagementIngress: () => unlimitIngress(netns, pair.a.ifname),
          processes: () => processesIn(netns.path),
          async rotateHostKeys() {
            hostKeys = generateHostKeys(paths);
            process.kill(sshd.pid!, 'SIGHUP');
            const wanted = hostKeys[0]!.publicKey;
            const deadline = Date.now() + 5000;
            while (scanHostKey(pair.a.address, SSH_PORTS[0], 'ed25519') !== wanted) {
              if (Date.now() > deadline) throw new Error(`sshd on ${name} did not pick up its new host keys`);
              await new Promise((r) => setTimeout(r, 50));
            }
            return hostKeys;
          },
        });
        dataPeers.set(name, data.peerAddress);
      }
    }
    routeClusterNodes(nodes, dataPeers);
    writeHashedKnownHosts(harness.knownHosts, nodes.flatMap((n) => n.hostKeys.map((k) => ({
      names: [knownHostsName(n.mgmtAddress, SSH_PORTS[0]), knownHostsName(n.mgmtAddress, SSH_PORTS[1]), n.dataAddress],
      publicKey: k.publicKey,
    }))));
    writeFileSync(harness.sshConfig, sshConfigText(nodes, harness.userKey, harness.knownHosts));
    writeFileSync(harness.inventory, inventoryText(options.clusters));
    return harness;
  } catch (err) {
    remove();
    throw err;
  }
}

/** Each node reaches the data addresses of the other nodes of its cluster through the cluster namespace. */
function routeClusterNodes(nodes: readonly TestNode[], peers: ReadonlyMap<string, string>): void {
  for (const node of nodes) {
    for (const other of nodes) {
      if (other === node || other.cluster !== node.cluster) continue;
      ip(['-n', node.netns.name, 'route', 'add', `${other.dataAddress}/32`, 'via', peers.get(node.name)!]);
    }
  }
}
