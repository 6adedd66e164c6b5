import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { tempDir } from '@ebpf-studio/test-support';
import { loadSshConfig, resolveDestination } from '../src/controller/ssh/config';
import { addHostKey, checkHostKey, fingerprint, knownKeyTypes, patternsMatch } from '../src/controller/ssh/known-hosts';

function keygen(dir: string, name: string, type: 'ed25519' | 'ecdsa'): { path: string; blob: Buffer; line: string; fingerprint: string } {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', path]);
  const line = readFileSync(`${path}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  const fp = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`], { encoding: 'utf8' }).split(/\s+/)[1]!;
  return { path, blob: Buffer.from(line.split(' ')[1]!, 'base64'), line, fingerprint: fp };
}

describe('ssh client configuration (ssh-config)', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'id_east-1'), 'placeholder');
  mkdirSync(join(dir, 'conf.d'));
  writeFileSync(join(dir, 'conf.d', '10-east.conf'), 'Host east-*\n  User core\n  Port 2222\n');
  writeFileSync(join(dir, 'conf.d', 'ignored.txt'), 'Host east-*\n  User nobody\n');
  const config = join(dir, 'ssh_config');
  writeFileSync(config, [
    `Include ${join(dir, 'conf.d', '*.conf')}`,
    'Host east-1',
    '  HostName 192.0.2.11',
    `  IdentityFile ${dir}/id_%n`,
    `  IdentityFile ${dir}/id_missing`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${dir}/kh_%h_%p`,
    '  ProxyJump jump1,admin@jump2:2200',
    '  ConnectTimeout 3',
    '  ServerAliveInterval 5',
    'Host legacy',
    '  ProxyCommand nc %h %p',
    `Match exec "touch ${dir}/match-exec-ran"`,
    '  User matched',
    'Host *',
    '  User fallback',
    '  StrictHostKeyChecking accept-new',
    '',
  ].join('\n'));

  test('HostName, User, Port (from an Include glob), IdentityFile tokens, known_hosts, ProxyJump, timeouts', () => {
    const source = loadSshConfig(config);
    const d = resolveDestination('east-1', source);
    assert.equal(d.host, '192.0.2.11');
    assert.equal(d.user, 'core');
    assert.equal(d.port, 2222);
    assert.deepEqual(d.identityFiles, [join(dir, 'id_east-1')], '%n expanded; files that do not exist are left out');
    assert.equal(d.identitiesOnly, true);
    assert.deepEqual(d.userKnownHostsFiles, [join(dir, 'kh_192.0.2.11_2222')]);
    assert.deepEqual(d.proxyJump, ['jump1', 'admin@jump2:2200']);
    assert.equal(d.connectTimeoutMs, 3000);
    assert.equal(d.serverAliveIntervalMs, 5000);
    assert.equal(d.acceptNewHostKey, true, 'StrictHostKeyChecking accept-new');
    assert.equal(existsSync(join(dir, 'match-exec-ran')), false, 'Match exec is never run');
  });

  test('user@host:port overrides the file; defaults for unknown hosts; ProxyCommand is refused', () => {
    const source = loadSshConfig(config);
    const d = resolveDestination('ops@east-9:2200', source);
    assert.deepEqual([d.user, d.host, d.port], ['ops', 'east-9', 2200]);
    const plain = resolveDestination('somewhere', source);
    assert.deepEqual([plain.user, plain.host, plain.port], ['fallback', 'somewhere', 22]);
    assert.deepEqual(plain.userKnownHostsFiles, [join(homedir(), '.ssh', 'known_hosts'), join(homedir(), '.ssh', 'known_hosts2')]);
    assert.throws(() => resolveDestination('legacy', source), /ProxyCommand is not supported .* use ProxyJump/);
    assert.throws(() => loadSshConfig(join(dir, 'nope')), /does not exist/);
  });

  test('a ProxyJump or target with shell metacharacters is rejected', () => {
    const bad = join(dir, 'bad_config');
    writeFileSync(bad, 'Host evil\n  ProxyJump jump;touch /tmp/x\n');
    assert.throws(() => resolveDestination('evil', loadSshConfig(bad)), /";" is not allowed/);
    assert.throws(() => resolveDestination('$(id)', loadSshConfig(bad)), /"\$" is not allowed/);
  });
});

describe('known_hosts', () => {
  const dir = tempDir();
  const ed = keygen(dir, 'host_ed25519', 'ed25519');
  const ec = keygen(dir, 'host_ecdsa', 'ecdsa');
  const other = keygen(dir, 'other_ed25519', 'ed25519');

  test('fingerprints as ssh-keygen prints them', () => {
    assert.equal(fingerprint(ed.blob), ed.fingerprint);
  });

  test('hashed entries written by ssh-keygen -H, [host]:port names, several key types per host', () => {
    const file = join(dir, 'known_hosts');
    writeFileSync(file, `10.1.1.1 ${ed.line}\n10.1.1.1 ${ec.line}\n[10.1.1.1]:2222 ${other.line}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    assert.ok(readFileSync(file, 'utf8').split('\n').filter(Boolean).every((l) => l.startsWith('|1|')), 'all hashed');
    assert.equal(checkHostKey([file], '10.1.1.1', ed.blob).status, 'known');
    assert.equal(checkHostKey([file], '10.1.1.1', ec.blob).status, 'known');
    assert.equal(checkHostKey([file], '[10.1.1.1]:2222', other.blob).status, 'known');
    assert.deepEqual(knownKeyTypes([file], '10.1.1.1').sort(), ['ecdsa-sha2-nistp256', 'ssh-ed25519']);
    const changed = checkHostKey([file], '10.1.1.1', other.blob);
    assert.equal(changed.status, 'changed');
    assert.deepEqual(changed.status === 'changed' ? changed.expected.map((k) => k.fingerprint) : [], [ed.fingerprint]);
    assert.deepEqual(checkHostKey([file], '10.1.1.2', ed.blob), { status: 'unknown', otherKeys: [] });
  });

  test('plain patterns: comma lists, wildcards, negation; @revoked', () => {
    assert.ok(patternsMatch('a.example,10.0.0.*', '10.0.0.7'));
    assert.ok(!patternsMatch('10.0.0.*,!10.0.0.7', '10.0.0.7'));
    assert.ok(patternsMatch('node-?.example', 'NODE-1.example'));
    const file = join(dir, 'revoked');
    writeFileSync(file, `@revoked * ${other.line}\n* ${other.line}\n`);
    assert.equal(checkHostKey([file], 'anything', other.blob).status, 'revoked');
  });

  test('added keys are hashed and OpenSSH finds them', () => {
    const file = join(dir, 'sub', 'known_hosts');
    addHostKey(file, '[198.18.0.1]:2222', ed.blob);
    const line = readFileSync(file, 'utf8');
    assert.match(line, /^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 /);
    assert.equal(checkHostKey([file], '[198.18.0.1]:2222', ed.blob).status, 'known');
    const found = execFileSync('ssh-keygen', ['-F', '[198.18.0.1]:2222', '-f', file], { encoding: 'utf8' });
    assert.match(found, /Host \[198\.18\.0\.1\]:2222 found/);
  });
});
