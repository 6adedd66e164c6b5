import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { tempDir } from '@ebpf-studio/test-support';
import { DEFAULT_HELPER_HEADER, findHelperHeader, loadHelperDefs, parseHelperDefs } from '../src/knowledge/helper-defs';

test('the installed bpf_helper_defs.h: ids, signatures, docs', (t) => {
  if (!existsSync(DEFAULT_HELPER_HEADER)) {
    t.skip(`no ${DEFAULT_HELPER_HEADER} (apt-get install libbpf-dev)`);
    return;
  }
  const start = performance.now();
  const table = loadHelperDefs(DEFAULT_HELPER_HEADER);
  t.diagnostic(`parsed ${table.helpers.length} helpers in ${(performance.now() - start).toFixed(1)} ms`);
  assert.ok(table.helpers.length >= 200);
  const lookup = table.byName.get('bpf_map_lookup_elem')!;
  assert.equal(lookup.id, 1);
  assert.equal(table.byId.get(1), lookup);
  assert.equal(lookup.signature, 'void *bpf_map_lookup_elem(void *map, const void *key)');
  assert.equal(lookup.returnType, 'void *');
  assert.match(lookup.description, /lookup in \*map\*/);
  assert.match(lookup.returns, /\*\*NULL\*\*/);

  const update = table.byName.get('bpf_map_update_elem')!;
  assert.equal(update.id, 2);
  assert.equal(update.signature, 'long bpf_map_update_elem(void *map, const void *key, const void *value, __u64 flags)');
  assert.deepEqual(update.params, [
    { type: 'void *', name: 'map' },
    { type: 'const void *', name: 'key' },
    { type: 'const void *', name: 'value' },
    { type: '__u64', name: 'flags' },
  ]);
  assert.match(update.description, /^- \*\*BPF_NOEXIST\*\*\n {2}The entry for \*key\* must not exist/m);

  const printk = table.byName.get('bpf_trace_printk')!;
  assert.deepEqual(printk.params[2], { type: '...', name: '' });
  assert.match(printk.description, /```\ntelnet-470/);
  assert.match(printk.description, /\*\*bpf_trace_printk\*\*\(\) is slow/);

  assert.equal(table.byName.get('bpf_ktime_get_ns')!.signature, '__u64 bpf_ktime_get_ns(void)');
  assert.equal(table.byName.get('bpf_sk_lookup_tcp')!.returnType, 'struct bpf_sock *');
  const ids = new Set(table.helpers.map((h) => h.id));
  assert.equal(ids.size, table.helpers.length, 'ids are unique');
  for (const h of table.helpers) assert.ok(h.description !== '' && h.line > 0, `${h.name} has docs and a line`);
  assert.equal(loadHelperDefs(DEFAULT_HELPER_HEADER), table, 'cached');
});

test('newer and odd headers: `* const`, multi-line declarations, junk', () => {
  const helpers = parseHelperDefs(`/* not a helper */
struct bpf_sock;
/*
 * bpf_new_helper
 *
 * 	Does a new thing::
 *
 * 		x = 1;
 *
 * Returns
 * 	Zero.
 */
static long (* const bpf_new_helper)(struct bpf_sock *sk,
				     int (*cb)(void *), __u32 flags) = (void *) 300;

static int (*broken)(void = (void *) 301;
static void *(*bpf_nodoc)(void) = (void *) 302;
/*
`);
  assert.deepEqual(helpers.map((h) => [h.name, h.id, h.line]), [['bpf_new_helper', 300, 12], ['bpf_nodoc', 302, 16]]);
  const [fresh, nodoc] = helpers;
  assert.equal(fresh!.signature, 'long bpf_new_helper(struct bpf_sock *sk, int (*cb)(void *), __u32 flags)');
  assert.equal(fresh!.description, 'Does a new thing:\n\n```\nx = 1;\n```');
  assert.equal(fresh!.returns, 'Zero.');
  assert.deepEqual(nodoc, { name: 'bpf_nodoc', id: 302, signature: 'void *bpf_nodoc(void)', returnType: 'void *', params: [], description: '', returns: '', line: 16 });
  assert.deepEqual(parseHelperDefs(''), []);
  assert.deepEqual(parseHelperDefs('\u0000\u0001 static ((( = (void *) ;'), []);
});

test('header lookup follows the include path; the cache follows the file', () => {
  const dir = tempDir();
  const header = join(dir, 'bpf', 'bpf_helper_defs.h');
  mkdirSync(join(dir, 'bpf'));
  assert.notEqual(findHelperHeader([dir]), header);
  writeFileSync(header, 'static long (*bpf_a)(void) = (void *) 1;\n');
  assert.equal(findHelperHeader(['/nonexistent', dir]), header);
  assert.deepEqual(loadHelperDefs(header).helpers.map((h) => h.name), ['bpf_a']);
  writeFileSync(header, 'static long (*bpf_b)(void) = (void *) 1;\n');
  utimesSync(header, new Date(), new Date(Date.now() + 5000));
  assert.deepEqual(loadHelperDefs(header).helpers.map((h) => h.name), ['bpf_b']);
  const missing = loadHelperDefs(join(dir, 'missing.h'));
  assert.deepEqual(missing.helpers, []);
  assert.equal(missing.byName.size, 0);
});
