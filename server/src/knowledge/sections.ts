import { listSectionNames, matchSection } from '@ebpf-studio/libbpf-ts';

export { matchSection };
export type SectionName = ReturnType<typeof listSectionNames>[number];

/** libbpf's program type name for a SEC() name ('xdp', 'sched_cls', 'cgroup_sock_addr', ...), or undefined. */
export function progTypeOfSection(section: string): string | undefined {
  return matchSection(section)?.progType;
}

/** SEC names to offer while the user types `prefix` inside SEC("…"), in libbpf's table order. */
export function sectionCompletions(prefix: string): SectionName[] {
  return listSectionNames().filter((s) => s.name.startsWith(prefix) || (s.template?.startsWith(prefix) ?? false));
}
