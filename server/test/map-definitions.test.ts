import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mapDefinition, mapDefinitionProblem } from '../src/engine/map-definitions';
import { SourceText } from '../src/engine/source-text';

const SOURCE = new SourceText(`struct value { struct { __u32 a; } inner; };
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct value);	/* no max_entries } flows SEC(".maps") */
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 0);
	__type(key, __u32);
	__type(value, __u64);
} empty SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u64);
} conntrack SEC(".maps");
`);

test('a map definition is found by its name, from its struct to the line naming it (comments aside)', () => {
  const flows = mapDefinition(SOURCE, 'flows')!;
  assert.equal(flows.line, 6);
  assert.match(flows.code, /^struct \{\n\t__uint\(type, BPF_MAP_TYPE_HASH\);/);
  assert.equal(mapDefinition(SOURCE, 'flow'), undefined, 'the whole name');
  assert.equal(mapDefinition(SOURCE, 'missing'), undefined);
});

test('what a definition says is wrong: max_entries missing or 0, where its type needs it', () => {
  const problem = (name: string): string | undefined => mapDefinitionProblem(mapDefinition(SOURCE, name)!);
  assert.equal(problem('flows'), 'the definition sets no max_entries');
  assert.equal(problem('empty'), 'max_entries is 0');
  assert.equal(problem('events'), undefined, 'libbpf sizes a perf event array');
  assert.equal(problem('conntrack'), undefined);
});
