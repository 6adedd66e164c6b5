import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { SessionController, startLocalAgent } from '@ebpf-studio/remote-agent';
import { requireKernel, tempDir } from '@ebpf-studio/test-support';
import { StudioMethods, type NodeSummary, type ScaffoldResult, type TemplateSummary, type VerifyNowResult } from '../src/lsp/studio-protocol';
import type { ExplorerData } from '../src/explorer';
import { LspSession } from './lsp-session';

const ROOT = join(__dirname, '..', '..', '..');
const errors = (ds: Diagnostic[]): Diagnostic[] => ds.filter((d) => d.severity === 1);

describe('studio requests of the language server (this machine)', () => {
  test('templates lists the six scheduling templates', async () => {
    const s = new LspSession();
    try {
      await s.initialize();
      const templates = (await s.connection.sendRequest(StudioMethods.templates)) as TemplateSummary[];
      assert.deepEqual(templates.map((t) => t.name), ['cgroup-skb-policy', 'clusterset-socket-lb', 'mesh-intercept', 'same-node-sockredir', 'tc-cluster-nat', 'xdp-maglev-gateway']);
      assert.ok(templates.every((t) => t.summary.length > 0));
    } finally {
      await s.dispose();
    }
  });

  test('scaffold writes a project whose program verifies clean; a non-empty folder is refused', async (t) => {
    if (!requireKernel(t)) return;
    const s = new LspSession();
    try {
      await s.initialize({ debounceMs: 0 });
      const templates = (await s.connection.sendRequest(StudioMethods.templates)) as TemplateSummary[];
      for (const { name } of templates) {
        const dir = join(tempDir(), name);
        const result = (await s.connection.sendRequest(StudioMethods.scaffold, { template: name, dir })) as ScaffoldResult;
        assert.ok(result.files.includes(result.main) && result.files.includes(join(dir, 'ebpf-studio.yaml')), name);
        assert.match(readFileSync(result.main, 'utf8').split('\n')[result.programLine ?? -1] ?? '', /^SEC\("(?!\.maps|license)/, `${name}: programLine names its first program's SEC`);
        const uri = s.open(result.main);
        const verdict = (await s.connection.sendRequest(StudioMethods.verifyNow, { uri })) as VerifyNowResult;
        assert.deepEqual(verdict, { ok: true }, name);
        const published = await s.diagnostics(uri);
        assert.deepEqual(errors(published.diagnostics), [], name);
        s.close(uri);
        await assert.rejects(s.connection.sendRequest(StudioMethods.scaffold, { template: name, dir }), /is not empty/);
      }
      await assert.rejects(s.connection.sendRequest(StudioMethods.scaffold, { template: 'nope', dir: tempDir() }), /no template "nope"/);
    } finally {
      await s.dispose();
    }
  });

  test('verifyNow bypasses the cache: it verifies again and answers after publishing', async (t) => {
    if (!requireKernel(t)) return;
    const s = new LspSession();
    try {
      await s.initialize({ debounceMs: 0 });
      const uri = s.open(join(ROOT, 'server', 'test', 'fixtures', 'lsp', 'null-deref.bpf.c'));
      await s.diagnostics(uri, (p) => errors(p.diagnostics).length > 0, 0, 60_000);
      const before = s.published.length;
      const verdict = (await s.connection.sendRequest(StudioMethods.verifyNow, { uri })) as VerifyNowResult;
      assert.deepEqual(verdict, { ok: false });
      const fresh = s.published.slice(before).find((p) => p.uri === uri);
      assert.equal(errors(fresh!.diagnostics)[0]!.code, 'BPF-NULL-DEREF');
      await assert.rejects(s.connection.sendRequest(StudioMethods.verifyNow, { uri: s.uriOf('/nonexistent.bpf.c') }), /is not open/);
    } finally {
      await s.dispose();
    }
  });

  test('explorerData: the open document with its level-2 instruction stream', async (t) => {
    if (!requireKernel(t)) return;
    const s = new LspSession();
    try {
      await s.initialize({ debounceMs: 0 });
      const path = join(ROOT, 'server', 'test', 'fixtures', 'lsp', 'null-deref.bpf.c');
      const uri = s.open(path);
      const data = (await s.connection.sendRequest(StudioMethods.explorerData, { uri })) as ExplorerData;
      assert.equal(data.file, path);
      assert.equal(data.source, readFileSync(path, 'utf8'));
      const rejected = data.programs.find((p) => p.verdict === 'rejected')!;
      assert.ok(rejected.instructions.length > 0);
      assert.ok(rejected.instructions.some((i) => i.line !== undefined), 'instructions carry source lines');
    } finally {
      await s.dispose();
    }
  });

  test('nodes lists this machine first, with the sessions other processes opened on it (as `ebpf-studio run` does)', async (t) => {
    if (!requireKernel(t)) return;
    const agent = startLocalAgent();
    const s = new LspSession();
    let other: SessionController | undefined;
    try {
      other = await SessionController.open(agent, { name: `run-elsewhere-${process.pid}`, leaseMs: 5000 });
      // no ebpf-studio.yaml in the server's folder or above: this machine is listed all the same
      await s.initialize({ inventory: '' });
      const [local, ...rest] = (await s.connection.sendRequest(StudioMethods.nodes, {})) as NodeSummary[];
      assert.equal(local?.name, 'local');
      assert.deepEqual(rest, [], 'no inventory, no other node');
      assert.equal(local.reachable, true, local.error);
      assert.equal(local.ssh, undefined);
      assert.equal(local.cluster, undefined);
      assert.match(local.kernel!, /^\d+\.\d+/);
      const listed = local.sessions.find((x) => x.id === other!.handle.id);
      assert.ok(listed, `the other process's session is listed: ${JSON.stringify(local.sessions.map((x) => x.name))}`);
      assert.equal(listed.name, `run-elsewhere-${process.pid}`);
      assert.equal(listed.owned, undefined, 'not opened by this server');
    } finally {
      await other?.close();
      agent.dispose();
      await s.dispose();
    }
  });

  test('apply, health and status without a running `ebpf-studio run` say how to start one', async () => {
    const dir = tempDir();
    const s = new LspSession();
    try {
      await s.initialize();
      for (const [method, params] of [
        [StudioMethods.status, { dir }],
        [StudioMethods.health, { dir, service: 'orders', target: 'east', state: 'down' }],
      ] as const) {
        await assert.rejects(s.connection.sendRequest(method, params), new RegExp(`no \\\`ebpf-studio run\\\` is running for ${dir}.*ebpf-studio run ${dir}`));
      }
      await assert.rejects(s.connection.sendRequest(StudioMethods.apply, { dir }), /cannot read .*ebpf-studio\.yaml: ENOENT/);
    } finally {
      await s.dispose();
    }
  });

  test('a corrupted ebpf-studio.yaml gets positioned diagnostics, updated as it is edited', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'project'));
    const path = join(dir, 'project', 'ebpf-studio.yaml');
    const good = readFileSync(join(ROOT, 'bpf-templates', 'clusterset-socket-lb', 'ebpf-studio.yaml'), 'utf8');
    writeFileSync(path, good);
    const s = new LspSession();
    try {
      await s.initialize({ debounceMs: 50 });
      const uri = s.open(path);
      const clean = await s.diagnostics(uri);
      assert.deepEqual(errors(clean.diagnostics), []);

      const broken = `version: 1\nclusters:\n  east:\n    id: 1\n    nodes:\n      - name: east-1\n        ssh: "root@h; rm -rf /"\n  west:\n    id: 1\nservices: {}\n`;
      const v = s.change(uri, broken);
      const published = await s.diagnostics(uri, (p) => p.version === v);
      const byLine = errors(published.diagnostics).map((d) => [d.range.start.line + 1, d.range.start.character + 1, d.message]);
      assert.ok(byLine.some(([line, , message]) => line === 7 && /ssh/.test(String(message))), JSON.stringify(byLine));
      assert.ok(byLine.some(([line, col, message]) => line === 9 && col === 9 && /both have id 1/.test(String(message))), JSON.stringify(byLine));
      const idRange = errors(published.diagnostics).find((d) => /both have id/.test(String(d.message)))!.range;
      assert.deepEqual([idRange.start.character, idRange.end.character], [8, 9], 'the range covers the value');

      const v2 = s.change(uri, 'version: 1\nclusters: [\n');
      const syntax = await s.diagnostics(uri, (p) => p.version === v2);
      assert.ok(errors(syntax.diagnostics).length > 0);
      assert.equal(new Set(syntax.diagnostics.map((d) => `${d.range.start.line}:${d.range.start.character}:${d.message}`)).size, syntax.diagnostics.length, 'each problem once');

      const v3 = s.change(uri, good);
      const fixed = await s.diagnostics(uri, (p) => p.version === v3);
      assert.deepEqual(errors(fixed.diagnostics), []);
    } finally {
      await s.dispose();
    }
  });
});
