import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { tempDir } from '@ebpf-studio/test-support';
import { findInventory, InventoryError, openInventory, parseDuration, parseInventory, resolveCluster, resolveNode } from '../src/controller/inventory';
import { TargetSyntaxError } from '../src/controller/ssh/target';

const EXAMPLE = `# two clusters
clusters:
  east:
    nodes:
      - name: east-1
        ssh: east-1
      - name: east-2
        ssh: admin@10.0.0.12:2222
        sudo: true
        lease: 30s
  west:
    nodes:
      - name: west-1
services:
  web: { port: 80 }
localCluster: east
`;

function problemsOf(text: string): string[] {
  try {
    parseInventory(text, 'ebpf-studio.yaml');
  } catch (err) {
    assert.ok(err instanceof InventoryError);
    return err.message.split('\n');
  }
  assert.fail('expected an InventoryError');
}

/** Shell metacharacter names a user might type (or an attacker plant). */
const HOSTILE = ['east-1;touch /tmp/pwned', '$(id)', '`id`', 'east-1 && id', "east-1'", 'east-1|id', '-oProxyCommand=id', 'a\nb', 'root@host;id', 'root@$(id)', 'user@host:22;id'];

describe('inventory: ebpf-studio.yaml', () => {
  test('clusters and nodes with their defaults; other top-level keys are kept', () => {
    const inv = parseInventory(EXAMPLE, 'ebpf-studio.yaml');
    assert.deepEqual([...inv.clusters.keys()], ['east', 'west']);
    assert.deepEqual(inv.nodes.map((n) => n.name), ['east-1', 'east-2', 'west-1']);
    assert.deepEqual(inv.nodes[1], { name: 'east-2', ssh: 'admin@10.0.0.12:2222', sudo: true, cluster: 'east', leaseMs: 30_000 });
    assert.deepEqual(inv.nodes[2], { name: 'west-1', ssh: 'west-1', sudo: false, cluster: 'west' }, 'ssh defaults to the node name');
    assert.deepEqual(inv.extra, { services: { web: { port: 80 } }, localCluster: 'east' });
    assert.deepEqual(inv.warnings, []);
  });

  test('--node resolves an inventory name, else an ssh alias or user@host[:port]; --cluster gives its nodes', () => {
    const inv = parseInventory(EXAMPLE);
    assert.equal(resolveNode('east-2', inv).ssh, 'admin@10.0.0.12:2222');
    assert.deepEqual(resolveNode('jumpbox', inv), { name: 'jumpbox', ssh: 'jumpbox', sudo: false });
    assert.deepEqual(resolveNode('root@192.0.2.7:2200', inv), { name: 'root@192.0.2.7:2200', ssh: 'root@192.0.2.7:2200', sudo: false });
    assert.deepEqual(resolveNode('root@[2001:db8::1]:22', undefined).ssh, 'root@[2001:db8::1]:22');
    assert.deepEqual(resolveCluster('east', inv).map((n) => n.name), ['east-1', 'east-2']);
    assert.throws(() => resolveCluster('north', inv), /no cluster "north" in <text>; clusters: east, west/);
    assert.throws(() => resolveCluster('north', undefined), /no ebpf-studio\.yaml found/);
  });

  test('names with shell metacharacters are rejected as targets, with the offending character named', () => {
    for (const name of HOSTILE) {
      assert.throws(() => resolveNode(name, parseInventory(EXAMPLE)), (err: unknown) => err instanceof TargetSyntaxError && /is not a node name, an ssh alias or user@host\[:port\]/.test(err.message), name);
    }
    assert.throws(() => resolveNode('east-1;touch /tmp/pwned'), /";" is not allowed/);
    assert.throws(() => resolveNode('root@host:99999'), /port "99999" is not a number from 1 to 65535/);
  });

  test('bad input gives every problem with its line and column', () => {
    const problems = problemsOf([
      'clusters:', //                                 1
      '  east:', //                                   2
      '    nodes:', //                                3
      '      - name: "east-1;touch /tmp/pwned"', //   4
      '        ssh: east-1', //                       5
      '      - name: east-2', //                      6
      '        sudo: yes', //                         7
      '        lease: soon', //                       8
      '      - ssh: root@$(id)', //                   9
      '      - name: east-2', //                     10
      '  "bad name":', //                            11
      '    nodes: []', //                            12
      '  west: {}', //                               13
    ].join('\n'));
    assert.deepEqual(problems, [
      'ebpf-studio.yaml:4:15: clusters.east.nodes[0].name "east-1;touch /tmp/pwned": use letters, digits, ".", "_" and "-" (no spaces or shell characters)',
      'ebpf-studio.yaml:7:15: clusters.east.nodes[1].sudo must be true or false (got the string "yes")',
      'ebpf-studio.yaml:8:16: clusters.east.nodes[1].lease must be a duration such as 15s, 500ms or 2m',
      'ebpf-studio.yaml:9:14: clusters.east.nodes[2].ssh: "root@$(id)" is not a node name, an ssh alias or user@host[:port]: host "$(id)": "$" is not allowed (letters, digits, ".", "_" and "-" only)',
      'ebpf-studio.yaml:9:9: clusters.east.nodes[2] has no name',
      'ebpf-studio.yaml:10:15: node name "east-2" is used twice (first at line 6:15): node names must be unique across clusters',
      'ebpf-studio.yaml:11:3: cluster name "bad name": use letters, digits, ".", "_" and "-"',
      'ebpf-studio.yaml:13:9: clusters.west must have a "nodes" list',
    ]);
  });

  test('YAML syntax errors and duplicate keys are positioned too', () => {
    assert.deepEqual(problemsOf('clusters:\n  east:\n    nodes: [\n'), ['ebpf-studio.yaml:4:1: Flow sequence in block collection must be sufficiently indented and end with a ]']);
    assert.deepEqual(problemsOf('clusters: {}\nclusters: {}\n'), ['ebpf-studio.yaml:2:1: Map keys must be unique']);
    assert.deepEqual(problemsOf('- a\n- b\n'), ['ebpf-studio.yaml:1:1: the file must be a mapping with a "clusters" key']);
  });

  test('unknown node keys are warnings with positions, not errors', () => {
    const inv = parseInventory('clusters:\n  east:\n    nodes:\n      - name: e1\n        sudp: true\n');
    assert.deepEqual(inv.warnings, [{ line: 5, col: 9, message: 'clusters.east.nodes[0]: unknown key "sudp" (known: name, ssh, sudo, lease); ignored' }]);
  });

  test('found with --config or upwards from the current directory', () => {
    const root = tempDir();
    const deep = join(root, 'a', 'b', 'c');
    mkdirSync(deep, { recursive: true });
    assert.equal(findInventory(deep), undefined);
    assert.equal(openInventory({ cwd: deep }), undefined);
    writeFileSync(join(root, 'a', 'ebpf-studio.yaml'), EXAMPLE);
    assert.equal(findInventory(deep), join(root, 'a', 'ebpf-studio.yaml'));
    assert.equal(openInventory({ cwd: deep })?.nodes.length, 3);
    writeFileSync(join(root, 'other.yaml'), 'clusters:\n  solo:\n    nodes:\n      - name: s1\n');
    assert.deepEqual(openInventory({ config: join(root, 'other.yaml'), cwd: deep })?.nodes.map((n) => n.name), ['s1']);
    assert.throws(() => openInventory({ config: join(root, 'missing.yaml') }), /missing\.yaml:1:1: cannot read the inventory: ENOENT/);
  });

  test('durations', () => {
    assert.equal(parseDuration('15s'), 15_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('1.5m'), 90_000);
    assert.equal(parseDuration('0s'), undefined);
    assert.equal(parseDuration('15'), undefined);
  });
});
