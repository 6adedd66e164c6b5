import type { SourceText } from './source-text';

/** Map types the kernel creates without max_entries (libbpf sizes perf event arrays; local storage takes 0). */
const NO_MAX_ENTRIES = /BPF_MAP_TYPE_(?:PERF_EVENT_ARRAY|(?:PERCPU_)?CGROUP_STORAGE|SK_STORAGE|INODE_STORAGE|TASK_STORAGE|CGRP_STORAGE|STRUCT_OPS)\b/;

export interface MapDefinition {
  /** The line that names the map: `} flows SEC(".maps");`. */
  line: number;
  /** The code of the definition, from its `struct {` to that line, comments blanked. */
  code: string;
}

/** The BTF-defined (or legacy) definition of map `name` in the source. */
export function mapDefinition(source: SourceText, name: string): MapDefinition | undefined {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const line = source.find(new RegExp(`\\b${escaped}\\s+SEC\\(\\s*"\\.?maps"\\s*\\)`));
  if (line === undefined) return undefined;
  let depth = 0;
  const parts: string[] = [];
  for (let n = line; n >= 1; n--) {
    const code = source.code(n);
    parts.unshift(code);
    depth += (code.match(/\}/g) ?? []).length - (code.match(/\{/g) ?? []).length;
    if (depth <= 0 && /\{/.test(code)) break;
  }
  return { line, code: parts.join('\n') };
}

/** What the definition itself says is wrong with it, for a map the kernel refused to create. */
export function mapDefinitionProblem(definition: MapDefinition): string | undefined {
  const type = /__uint\(\s*type\s*,\s*(\w+)\s*\)/.exec(definition.code)?.[1];
  if (type && !NO_MAX_ENTRIES.test(type) && !/__uint\(\s*max_entries\s*,/.test(definition.code) && !/\.max_entries\s*=/.test(definition.code)) {
    return 'the definition sets no max_entries';
  }
  if (/__uint\(\s*max_entries\s*,\s*0\s*\)/.test(definition.code) && type && !NO_MAX_ENTRIES.test(type)) return 'max_entries is 0';
  return undefined;
}
