import { isMap, isScalar, isSeq, parseDocument } from 'yaml';

/**
 * A template's sample ebpf-studio.yaml made the project's own: every `programs[].attach.cgroup` becomes
 * the project's cgroup, so two projects scaffolded from one template never share (or remove) a cgroup.
 * Only those values change: the text around them, comments included, stays as the template wrote it.
 */
export function withProjectCgroup(text: string, cgroup: string): string {
  const doc = parseDocument(text);
  const spans: [number, number][] = [];
  const programs = doc.get('programs');
  for (const item of isSeq(programs) ? programs.items : []) {
    const attach = isMap(item) ? item.get('attach') : undefined;
    const value = isMap(attach) ? attach.get('cgroup', true) : undefined;
    if (isScalar(value) && value.range) spans.push([value.range[0], value.range[1]]);
  }
  return spans.sort((a, b) => b[0] - a[0]).reduce((out, [start, end]) => out.slice(0, start) + cgroup + out.slice(end), text);
}
