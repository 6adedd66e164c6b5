import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { readBpfObject } from '@ebpf-studio/libbpf-ts';
import { startLocalAgent, type AgentClient } from '@ebpf-studio/remote-agent';
import { kernelAvailable, requireKernel } from '@ebpf-studio/test-support';
import { verifySource } from '../src/index';
import { checkPolicy, commonHeadersDir, listTemplates } from '../src/policy';
import { compileTemplate, template, TEMPLATES_DIR } from './template-socket-harness';

/** The socket templates: each compiles, every program passes the kernel verifier, and template.json tells the truth. */

const SOCKET_TEMPLATES = ['clusterset-socket-lb', 'same-node-sockredir', 'mesh-intercept'];

describe('socket templates: verifier and manifests', () => {
  let agent: AgentClient | undefined;
  before(() => {
    if (kernelAvailable()) agent = startLocalAgent({ log: (l) => process.stderr.write(`agent: ${l}\n`) });
  });
  after(() => agent?.dispose());

  test('the catalogue lists them with a summary, and reads without problems', () => {
    const catalog = listTemplates(TEMPLATES_DIR);
    for (const name of SOCKET_TEMPLATES) assert.ok(catalog.templates.some((t) => t.name === name && t.summary.length > 20), name);
    assert.deepEqual(catalog.problems.filter((p) => SOCKET_TEMPLATES.some((n) => p.includes(n))), []);
  });

  for (const name of SOCKET_TEMPLATES) {
    test(`${name}: every program passes the verifier through verifySource`, async (t: TestContext) => {
      if (!requireKernel(t)) return;
      const manifest = template(name);
      const file = join(manifest.dir, manifest.source);
      const report = await verifySource(readFileSync(file, 'utf8'), file, { agent: agent!, includePaths: [commonHeadersDir(TEMPLATES_DIR)] });
      assert.deepEqual(report.diagnostics.map((d) => `${d.line}:${d.code} ${d.message}`), []);
      assert.equal(report.ok, true);
      assert.deepEqual(report.programs.map((p) => [p.name, p.section, p.verdict]), manifest.programs.map((p) => [p.name, p.section, 'accepted']));
      t.diagnostic(report.programs.map((p) => `${p.name}: ${p.insnsProcessed} insns`).join(', '));
    });

    test(`${name}: template.json matches the object (maps, parameters) and its files exist`, () => {
      const manifest = template(name);
      const { spec, problems } = readBpfObject(compileTemplate(name));
      assert.deepEqual(problems.filter((p) => p.severity === 'error'), []);
      for (const m of manifest.maps) {
        const found = spec.maps.find((s) => s.name === m.name);
        assert.ok(found, `map ${m.name} is in the object`);
        assert.equal(found.type, m.type, `map ${m.name}'s type`);
        if (m.key) assert.equal(found.keyType, m.key, `map ${m.name}'s key type`);
        if (found.valueType !== undefined) assert.equal(found.valueType, m.value, `map ${m.name}'s value type`);
      }
      assert.deepEqual(spec.maps.map((m) => m.name).sort(), manifest.maps.map((m) => m.name).sort(), 'every map is described');
      const settings = spec.globals.filter((g) => g.section === '.rodata');
      assert.deepEqual(settings.map((g) => g.name).sort(), manifest.parameters.map((p) => p.name).sort(), 'parameters are the const volatile settings');
      for (const p of manifest.parameters) {
        const g = settings.find((s) => s.name === p.name)!;
        assert.equal(g.typeName.replace(/^const volatile /, ''), p.type, `${p.name}'s type`);
        const expected = p.format === 'ipv4' ? Buffer.from(String(p.default).split('.').map(Number)).readUInt32LE(0) : p.default;
        assert.equal(Number(g.initialValue), expected, `${p.name}'s default`);
      }
      for (const f of [...manifest.files, manifest.source, manifest.header]) assert.ok(existsSync(join(manifest.dir, f)), f);
      for (const h of manifest.commonHeaders) assert.ok(existsSync(join(commonHeadersDir(TEMPLATES_DIR), h)), h);
    });

    test(`${name}: the sample ebpf-studio.yaml reads without problems or warnings`, () => {
      const file = join(template(name).dir, 'ebpf-studio.yaml');
      const result = checkPolicy(readFileSync(file, 'utf8'), file, { catalog: listTemplates(TEMPLATES_DIR) });
      assert.deepEqual([...result.problems, ...result.warnings], []);
      assert.ok(result.policy!.programs.some((p) => p.template === name));
    });
  }
});
