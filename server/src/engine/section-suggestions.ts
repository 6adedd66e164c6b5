import { LIBBPF_VERSION, listSectionNames, matchSection } from '@ebpf-studio/libbpf-ts';

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

const MAX_SUGGESTIONS = 3;

/**
 * What to tell a user whose SEC name libbpf rejected: that a newer libbpf knows it (and what to do with
 * this one), or the known names closest to it.
 */
export function sectionAdvice(section: string): string {
  const match = matchSection(section);
  if (match?.knownSince) {
    return `libbpf ${match.knownSince} knows SEC("${section}") but this libbpf (${LIBBPF_VERSION}) does not${/^tcx?\/(?:ingress|egress)$/.test(section) ? ': use SEC("tc") and attach it through a tcx link' : ''}`;
  }
  const names = listSectionNames().filter((n) => !n.knownSince);
  const scored = names
    .map((n) => ({ name: n.template ?? n.name, distance: editDistance(section, n.template ? n.name : n.name) }))
    .filter((s) => s.distance <= Math.max(2, Math.floor(section.length / 3)))
    .sort((a, b) => a.distance - b.distance);
  const unique = [...new Set(scored.map((s) => s.name))].slice(0, MAX_SUGGESTIONS);
  return unique.length > 0 ? `did you mean ${unique.map((n) => `SEC("${n}")`).join(' or ')}?` : 'no known name is close: libbpf names such as SEC("xdp"), SEC("tc"), SEC("cgroup/connect4"), SEC("sockops") set the program type (the editor completes them inside SEC(""))';
}
