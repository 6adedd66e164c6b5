import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SourceText } from '../src/engine/source-text';
import { quickFixesFor } from '../src/lsp/features/quick-fixes';

const SOURCE = new SourceText(`int f(struct bpf_sock_ops *skops)
{
	__u64 *n = bpf_map_lookup_elem(&conns, &port);
	if (n)
		*n += 1;
	struct backend *be =
		bpf_map_lookup_elem(&backends, &id);
	struct bpf_sock *sk = skops->sk;
	return sk->state + be->port;
}`);

const fixFor = (line: number, related: { line: number; message: string }[]): { title: string; insertAt?: number; text?: string } | undefined => {
  const [fix] = quickFixesFor({ source: SOURCE, line, code: 'BPF-NULL-DEREF', progType: 'sock_ops', related });
  const edit = fix?.edits[0];
  return fix && { title: fix.title, insertAt: edit!.range.start.line + 1, text: edit!.newText };
};

test('the guard checks the variable assigned where the engine traced the NULL to, after that statement', () => {
  const fix = fixFor(9, [{ line: 8, message: 'the pointer is read here and may be NULL' }]);
  assert.equal(fix?.title, "Add a NULL check for 'sk'");
  assert.equal(fix?.insertAt, 9);
  assert.match(fix!.text!, /^\tif \(!sk\)\n\t\treturn \w+;\n$/);
});

test('an assignment split before the call is found on the line above; the guard follows the statement', () => {
  const fix = fixFor(9, [{ line: 7, message: 'the pointer comes from this call, which may return NULL' }]);
  assert.equal(fix?.title, "Add a NULL check for 'be'");
  assert.equal(fix?.insertAt, 8);
});

test('no traced origin: the nearest lookup above; a traced line without an assignment: no guess', () => {
  assert.equal(fixFor(5, [])?.title, "Add a NULL check for 'n'");
  assert.equal(fixFor(9, [{ line: 1, message: 'f() is global: verified on its own, its pointer arguments may be NULL' }]), undefined);
});
