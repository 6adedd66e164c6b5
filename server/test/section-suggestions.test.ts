import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sectionAdvice } from '../src/engine/section-suggestions';

test('a misspelt SEC name gets the close libbpf names', () => {
  assert.match(sectionAdvice('socket1'), /^did you mean SEC\("socket"\)/);
  assert.match(sectionAdvice('cgroup/connect_v4'), /SEC\("cgroup\/connect4"\)/);
});

test('a name only a newer libbpf knows says which version, and for tc/tcx ingress/egress what to write instead', () => {
  for (const section of ['tcx/ingress', 'tc/egress']) {
    assert.match(sectionAdvice(section), new RegExp(`^libbpf 1\\.\\d+ knows SEC\\("${section.replace('/', '\\/')}"\\) but this libbpf \\(1\\.\\d+\\) does not: use SEC\\("tc"\\) and attach it through a tcx link$`));
  }
  assert.doesNotMatch(sectionAdvice('netfilter'), /tcx/);
});

test('a name far from every known one lists real ones without pretending to be close', () => {
  const advice = sectionAdvice('my_program_section');
  assert.match(advice, /^no known name is close: .*SEC\("xdp"\).*SEC\("tc"\)/);
  assert.doesNotMatch(advice, /did you mean/);
});
