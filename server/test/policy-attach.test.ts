import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPolicy } from '../src/policy';

const base = ['version: 1', 'localCluster: east', 'clusters: { east: { id: 1, nodes: [] } }', 'programs:'];

test('xdp and tc templates attach to the interface the program entry names', () => {
  const ok = checkPolicy([...base, '  - { name: gw, template: xdp-maglev-gateway, attach: { interface: eth1 } }'].join('\n'));
  assert.deepEqual(ok.problems, []);
  assert.deepEqual(ok.policy?.programs[0]?.attach, { interface: 'eth1' });
});

test('an interface template without an interface, or with a name that is not one, is a positioned error', () => {
  const missing = checkPolicy([...base, '  - { name: nat, template: tc-cluster-nat }'].join('\n'));
  assert.equal(missing.problems.length, 1);
  assert.match(missing.problems[0]!.message, /attaches to a network interface: add "attach: \{ interface: <name> \}"/);
  assert.equal(missing.problems[0]!.line, 5);
  const odd = checkPolicy([...base, '  - { name: nat, template: tc-cluster-nat, attach: { interface: "eth0;reboot" } }'].join('\n'));
  assert.match(odd.problems[0]!.message, /attach\.interface "eth0;reboot": an interface name/);
});
