import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { ensurePayloadBuilt, tempDir } from '@ebpf-studio/test-support';
import { archFiles, loadAgentPayload } from '../src/controller/payload';
import { bootstrapCommand, PROBE_BEGIN } from '../src/controller/ssh/bootstrap-script';
import { parseProbe } from '../src/controller/ssh/probe';
import { REPO } from './ssh-support';

describe('agent payload', () => {
  before(() => ensurePayloadBuilt());

  test('content-addressed: the hash names the agent, koffi and its version', () => {
    const payload = loadAgentPayload(join(REPO, 'dist'));
    assert.match(payload.hash, /^[0-9a-f]{16}$/);
    assert.deepEqual(payload.common.slice(0, 2).map((f) => f.path), ['agent.js', 'verify-worker.js']);
    assert.ok(payload.common.some((f) => f.path === 'node_modules/koffi/package.json'));
    assert.equal(loadAgentPayload(payload.dir).hash, payload.hash, 'stable');
    assert.throws(() => loadAgentPayload(tempDir()), /the agent payload is not built: .*run `node scripts\/bundle\.js`/);
  });

  test('koffi for arm64 nodes comes from the npm registry: an aarch64 binary in the package layout koffi expects', async () => {
    const payload = loadAgentPayload(join(REPO, 'dist'));
    const cache = tempDir();
    const files = await archFiles(payload, 'arm64', cache);
    assert.deepEqual(files.map((f) => f.path), [
      'node_modules/@koromix/koffi-linux-arm64/index.js',
      'node_modules/@koromix/koffi-linux-arm64/linux_arm64/koffi.node',
      'node_modules/@koromix/koffi-linux-arm64/package.json',
    ]);
    const binary = readFileSync(files[1]!.source);
    const EM_AARCH64 = 183;
    assert.equal(binary.readUInt16LE(18), EM_AARCH64);
    const x64 = await archFiles(payload, 'x64', cache);
    assert.ok(x64.every((f) => f.source.startsWith(payload.dir)), 'x64 ships in the bundle');
  });
});

describe('bootstrap script', () => {
  test('one fixed line that every login shell passes to sh unchanged; arguments are checked', () => {
    const command = bootstrapCommand('probe', 'a'.repeat(16), '20.20.2', false);
    assert.equal(command.split('\n').length, 1);
    assert.equal(command.match(/'/g)?.length, 2, 'exactly the two quotes around the script');
    assert.throws(() => bootstrapCommand('probe', 'abc;id', '20.20.2', false), /not hex/);
    assert.throws(() => bootstrapCommand('probe', 'a'.repeat(16), '20;id', false), /not a version/);
  });

  test('the probe reads this machine through bash and dash, ignoring what rc files print around it', () => {
    const home = tempDir();
    for (const shell of ['bash', 'dash']) {
      const out = execFileSync(shell, ['-c', `echo "motd noise"; ${bootstrapCommand('probe', 'b'.repeat(16), '20.20.2', false)}`], { encoding: 'utf8', env: { ...process.env, HOME: home } });
      assert.ok(out.startsWith('motd noise\n'));
      assert.ok(out.includes(PROBE_BEGIN));
      const probe = parseProbe(out, 'local');
      assert.equal(probe.kernelRelease, readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
      assert.equal(probe.home, home);
      assert.equal(probe.payload, 'missing');
      assert.equal(probe.nodeFound, process.version);
      assert.equal(probe.shellNoise, 'motd noise\n');
    }
  });
});
