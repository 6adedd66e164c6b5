import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { ensurePayloadBuilt, kernelAvailable, requireKernel, tempDir } from '@ebpf-studio/test-support';
import { createTestNodes, ENCRYPTED_KEY_PASSPHRASE, NODE_USER, waitForPort, type TestNodes } from '@ebpf-studio/test-support';
import { AgentError } from '../src/controller/agent-client';
import { connectNode, type ConnectNodeOptions, type NodeConnection } from '../src/controller/connect-node';
import { loadInventory, type Inventory, type NodeTarget } from '../src/controller/inventory';
import { SshError } from '../src/controller/ssh/errors';
import { TargetSyntaxError } from '../src/controller/ssh/target';

function isSsh(kind: SshError['kind'], pattern: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof SshError, `an SshError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    assert.match(err.message, pattern);
    return true;
  };
}

describe('SSH: host keys, authentication, bad names and bad nodes (real sshd)', () => {
  let nodes: TestNodes | undefined;
  let inventory: Inventory;
  let dir: string;
  const open: NodeConnection[] = [];
  const agents: ChildProcess[] = [];

  before(async () => {
    if (!kernelAvailable()) return;
    await ensurePayloadBuilt();
    nodes = await createTestNodes({ clusters: { east: ['east-1', 'east-2'], west: ['west-1', 'west-2'] }, hideBtf: ['west-2'], hideLibbpf: ['west-2'] });
    inventory = loadInventory(nodes.inventory);
    dir = tempDir();
  });
  after(async () => {
    for (const c of open) await c.close();
    for (const a of agents) a.kill('SIGKILL');
    nodes?.remove();
  });

  /** An ssh config: `extra` first (the first value obtained wins), then the harness's. */
  function sshConfig(name: string, extra: string): string {
    const path = join(dir, name);
    writeFileSync(path, `${extra}\n${readFileSync(nodes!.sshConfig, 'utf8')}`);
    return path;
  }

  async function connect(target: string | NodeTarget, options: ConnectNodeOptions = {}): Promise<NodeConnection> {
    const connection = await connectNode(target, { inventory, sshConfigFile: nodes!.sshConfig, agentSocket: null, ...options });
    open.push(connection);
    return connection;
  }

  test('an unknown host key is refused with its fingerprint; --accept-new-host-key adds it, hashed', async (t) => {
    if (!requireKernel(t)) return;
    const node = nodes!.node('east-1');
    const knownHosts = join(dir, 'known_hosts_empty');
    const config = sshConfig('unknown_config', `Host *\n  UserKnownHostsFile ${knownHosts}\n`);
    const ed25519 = node.hostKeys.find((k) => k.publicKey.startsWith('ssh-ed25519'))!;
    await assert.rejects(connect('east-1', { sshConfigFile: config }), isSsh('host-key-unknown', new RegExp(`not in known_hosts .*presents ssh-ed25519 ${ed25519.fingerprint.replace(/[+/]/g, '\\$&')}.*--accept-new-host-key`)));
    assert.equal(existsSync(knownHosts), false, 'nothing written without the flag');

    await connect('east-1', { sshConfigFile: config, acceptNewHostKey: true });
    await connect(`root@${node.mgmtAddress}:2222`, { sshConfigFile: config, acceptNewHostKey: true });
    const lines = readFileSync(knownHosts, 'utf8').trim().split('\n');
    assert.equal(lines.length, 2);
    assert.ok(lines.every((l) => /^\|1\|\S+\|\S+ ssh-ed25519 /.test(l)), 'hashed, as Debian writes them');
    for (const name of [node.mgmtAddress, `[${node.mgmtAddress}]:2222`]) {
      assert.match(execFileSync('ssh-keygen', ['-F', name, '-f', knownHosts], { encoding: 'utf8' }), /found/, `OpenSSH finds ${name}`);
    }
    const again = await connect('east-1', { sshConfigFile: config });
    assert.equal(again.info.uid, 0, 'known now: no flag needed');
  });

  test('names with shell metacharacters are rejected before anything connects, and nothing runs', async (t) => {
    if (!requireKernel(t)) return;
    const marker = `/tmp/ebpf-studio-pwned-${process.pid}`;
    const logSizes = nodes!.nodes.map((n) => statSync(n.sshdLog).size);
    const hostile = [`east-1;touch ${marker}`, `$(touch ${marker})`, `\`touch ${marker}\``, `east-1 && touch ${marker}`, `east-1|touch ${marker}`, `-oProxyCommand=touch ${marker}`, `root@east-1;touch ${marker}`, `root@$(touch ${marker})`];
    for (const name of hostile) {
      await assert.rejects(connect(name), (err: unknown) => err instanceof TargetSyntaxError, name);
      await assert.rejects(connect(name, { inventory: undefined }), (err: unknown) => err instanceof TargetSyntaxError, name);
    }
    assert.equal(existsSync(marker), false);
    for (const n of nodes!.nodes) assert.equal(existsSync(join(n.rootHome, '..', 'tmp', marker.slice('/tmp/'.length))), false);
    // sshd (LogLevel VERBOSE) logs "Connection from" for each connection it accepts; other lines may still
    // come from the connections of earlier tests
    const accepted = nodes!.nodes.flatMap((n, i) => readFileSync(n.sshdLog).subarray(logSizes[i]).toString('utf8').split('\n').filter((l) => l.includes('Connection from')));
    assert.deepEqual(accepted, [], 'no node saw a connection');
  });

  test('an unreachable node times out with a message naming it', async (t) => {
    if (!requireKernel(t)) return;
    const node = nodes!.node('west-1');
    node.cutManagement();
    try {
      const started = performance.now();
      await assert.rejects(connect('west-1', { connectTimeoutMs: 1000 }), isSsh('timeout', new RegExp(`could not connect to west-1 \\(root@${node.mgmtAddress.replace(/\./g, '\\.')}:22\\) within 1000 ms`)));
      const ms = performance.now() - started;
      // the bound is loose for busy CI cores; without the timeout, a cut link waits for TCP's own (minutes)
      assert.ok(ms >= 990 && ms < 10_000, `gave up after ${ms.toFixed(0)} ms`);
    } finally {
      node.restoreManagement();
    }
    await waitForPort(node.mgmtAddress, 22, 5000);
    await connect('west-1');
  });

  test('an authentication failure names the keys it tried and what the server accepts', async (t) => {
    if (!requireKernel(t)) return;
    const node = nodes!.node('east-1');
    const config = join(dir, 'stranger_config');
    writeFileSync(config, [
      'Host stranger',
      `  HostName ${node.mgmtAddress}`,
      '  User root',
      `  IdentityFile ${nodes!.strangerKey.privatePath}`,
      `  IdentityFile ${nodes!.encryptedUserKey.privatePath}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${nodes!.knownHosts}`,
      '',
    ].join('\n'));
    const stranger = nodes!.strangerKey;
    await assert.rejects(connect('stranger', { sshConfigFile: config }), isSsh('auth', new RegExp([
      'authentication as root to stranger \\(root@[\\d.]+:22\\) failed; tried: ',
      `${stranger.privatePath} \\(ssh-ed25519 ${stranger.fingerprint.replace(/[+/]/g, '\\$&')}\\); `,
      `${nodes!.encryptedUserKey.privatePath}: encrypted, and no passphrase callback was given`,
      '.*the server accepts: publickey',
    ].join(''))));

    const asked: string[] = [];
    const withPassphrase = await connect('stranger', { sshConfigFile: config, passphrase: async (file) => (asked.push(file), ENCRYPTED_KEY_PASSPHRASE) });
    assert.deepEqual(asked, [nodes!.encryptedUserKey.privatePath]);
    assert.equal(withPassphrase.info.user, 'root');
    await assert.rejects(connect('stranger', { sshConfigFile: config, passphrase: async () => 'wrong' }), isSsh('auth', /id_ecdsa_encrypted: wrong passphrase/));
  });

  test('ssh-agent keys are used, and IdentitiesOnly keeps to the configured identities', async (t) => {
    if (!requireKernel(t)) return;
    const socket = join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    agents.push(agent);
    const deadline = Date.now() + 5000;
    while (!existsSync(socket) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    execFileSync('ssh-add', ['-q', nodes!.userKey.privatePath], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
    const node = nodes!.node('east-2');
    const config = join(dir, 'agent_config');
    const host = (name: string, only: string): string => `Host ${name}\n  HostName ${node.mgmtAddress}\n  User root\n  IdentityFile ${nodes!.strangerKey.privatePath}\n  IdentitiesOnly ${only}\n  UserKnownHostsFile ${nodes!.knownHosts}\n`;
    writeFileSync(config, `${host('via-agent', 'no')}${host('identities-only', 'yes')}`);
    const connection = await connect('via-agent', { sshConfigFile: config, agentSocket: socket });
    assert.equal(connection.info.uid, 0);
    await assert.rejects(connect('identities-only', { sshConfigFile: config, agentSocket: socket }), isSsh('auth', /ssh-agent at .*agent\.sock: no key matching an IdentityFile \(IdentitiesOnly\)/));
  });

  test('ProxyJump: through one node to another node\'s data address, and the agent works there', async (t) => {
    if (!requireKernel(t)) return;
    const target = nodes!.node('east-2');
    const config = sshConfig('jump_config', `Host east-2-via-east-1\n  HostName ${target.dataAddress}\n  User root\n  ProxyJump east-1\n`);
    const before = readFileSync(target.sshdLog, 'utf8').length;
    const connection = await connect('east-2-via-east-1', { sshConfigFile: config });
    assert.deepEqual(connection.destination.proxyJump, ['east-1']);
    const info = await (await connection.agent()).info();
    assert.deepEqual(info.problems, []);
    const jumpData = nodes!.node('east-1').dataAddress;
    assert.match(readFileSync(target.sshdLog, 'utf8').slice(before), new RegExp(`Accepted publickey for root from ${jumpData.replace(/\./g, '\\.')} `), 'east-2 saw the connection come from east-1');
    t.diagnostic(`connect+auth through one jump: ${connection.timings.connectMs.toFixed(0)} ms`);
  });

  test('a non-root user: without sudo no CAP_BPF, with sudo: true sudo -n refuses — reported from the probe, never waited on', async (t) => {
    if (!requireKernel(t)) return;
    const node = nodes!.node('east-1');
    const ssh = `${NODE_USER}@${node.mgmtAddress}`;
    const plain = await connect({ name: 'east-1-user', ssh, sudo: false });
    assert.equal(plain.info.user, NODE_USER);
    await assert.rejects(plain.agent(), (err: unknown) => err instanceof AgentError && err.data?.kind === 'PermissionError' && /user studio has no CAP_BPF there .*sudo: true/.test(err.message));

    const started = performance.now();
    const withSudo = await connect({ name: 'east-1-sudo', ssh, sudo: true });
    const sudoInstalled = existsSync('/usr/bin/sudo');
    assert.equal(withSudo.info.sudo === 'missing', !sudoInstalled);
    await assert.rejects(withSudo.agent(), (err: unknown) => err instanceof AgentError && err.data?.kind === 'PermissionError'
      && (sudoInstalled ? /sudo -n refused \(sudo: a password is required\).*NOPASSWD/ : /sudo is not installed there/).test(err.message));
    // sudo -n refuses at once instead of waiting on a prompt; the bound is loose for busy CI cores
    assert.ok(performance.now() - started < 15_000, 'no password prompt was waited on');
    assert.equal(readFileSync(node.sshdLog, 'utf8').includes('agent.js'), false);
  });

  test('a node without BTF and libbpf is refused before anything is uploaded, naming both fixes', async (t) => {
    if (!requireKernel(t)) return;
    const connection = await connect('west-2');
    assert.equal(connection.info.btf, false);
    assert.equal(connection.info.libbpf, false);
    await assert.rejects(connection.agent(), (err: unknown) => err instanceof AgentError && err.data?.kind === 'NotSupportedError'
      && /has no BTF .*libbpf\.so\.1 is not installed.*CONFIG_DEBUG_INFO_BTF=y.*apt-get install libbpf1/.test(err.message));
    assert.equal(existsSync(join(nodes!.node('west-2').rootHome, '.cache')), false, 'nothing was uploaded');
  });

  test('a changed host key is refused with both fingerprints, even with --accept-new-host-key', async (t) => {
    if (!requireKernel(t)) return;
    const node = nodes!.node('east-2');
    const old = node.hostKeys.find((k) => k.publicKey.startsWith('ssh-ed25519'))!;
    const rotated = (await node.rotateHostKeys()).find((k) => k.publicKey.startsWith('ssh-ed25519'))!;
    const escape = (s: string): string => s.replace(/[+/]/g, '\\$&');
    for (const acceptNewHostKey of [false, true]) {
      await assert.rejects(connect('east-2', { acceptNewHostKey }), isSsh('host-key-changed',
        new RegExp(`host key of east-2 .* has CHANGED — it presents ssh-ed25519 ${escape(rotated.fingerprint)}, but known_hosts has ssh-ed25519 ${escape(old.fingerprint)}`)));
    }
  });
});
