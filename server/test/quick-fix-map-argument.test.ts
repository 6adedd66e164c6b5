import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SourceText } from '../src/engine/source-text';
import { quickFixesFor } from '../src/lsp/features/quick-fixes';

const SOURCE = new SourceText(`int f(struct __sk_buff *skb)
{
	__u32 key = skb->ifindex;
	unsigned short small = 1;
	__u64 wide;
	struct flow k2;
	bpf_map_lookup_elem(&by_cookie, &key);
	bpf_map_update_elem(&by_cookie, &wide, &small, BPF_ANY);
	bpf_map_lookup_elem(&flows, &k2);
	bpf_map_lookup_elem(&by_cookie, &wide);
}`);

const titles = (line: number, kernelMessage: string): string[] => quickFixesFor({ source: SOURCE, line, code: 'BPF-UNINIT', kernelMessage, related: [] }).map((f) => f.title);
const widenings = (line: number, kernelMessage: string): string[] => titles(line, kernelMessage).filter((t) => t.startsWith('Declare'));

test('a key smaller than the map reads is declared with the unsigned type of that size', () => {
  const [fix] = quickFixesFor({ source: SOURCE, line: 7, code: 'BPF-UNINIT', kernelMessage: 'invalid read from stack R2 off=-4 size=8', related: [] });
  assert.equal(fix?.title, "Declare 'key' as __u64 (the map reads 8 bytes)");
  assert.deepEqual(fix?.edits[0], { range: { start: { line: 2, character: 1 }, end: { line: 2, character: 6 } }, newText: '__u64' });
});

test('the value is R3: its variable is widened; older kernels word the message differently', () => {
  assert.deepEqual(widenings(8, 'invalid indirect read from stack R3 off -2+0 size 8'), ["Declare 'small' as __u64 (the map reads 8 bytes)"]);
  assert.equal(titles(8, 'invalid indirect read from stack R3 off -2+0 size 8')[0], "Declare 'small' as __u64 (the map reads 8 bytes)", 'offered first');
});

test('no widening for a struct, a variable already as wide, or another message', () => {
  assert.deepEqual(titles(9, 'invalid read from stack R2 off=-16 size=16'), ["Zero-initialise 'k2' (padding included)"]);
  assert.deepEqual(titles(10, 'invalid read from stack R2 off=-8 size=8'), ["Initialise 'wide' to 0"], 'uninitialised, not too small');
  assert.deepEqual(widenings(7, 'R2 !read_ok'), []);
});
