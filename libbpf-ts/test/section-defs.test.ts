import assert from 'node:assert/strict';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import test from 'node:test';
import { listSectionNames, matchSection } from '../src/section-defs';

test('exact names, and libbpf\'s "name+" form: exact or name/<extras>', () => {
  assert.deepEqual(matchSection('xdp'), { progType: 'xdp', expectedAttachType: 'xdp', known: true, attachable: 'manual' });
  assert.equal(matchSection('xdp/eth0'), undefined, 'SEC("xdp") takes no extras');
  assert.deepEqual(matchSection('kprobe'), { progType: 'kprobe', known: true, attachable: 'manual' });
  assert.deepEqual(matchSection('kprobe/tcp_v4_connect'), { progType: 'kprobe', known: true, attachable: 'auto' });
  assert.equal(matchSection('kprobetcp'), undefined, 'a "+" name needs a "/" before its extras');
  assert.deepEqual(matchSection('tracepoint/syscalls/sys_enter_execve'), { progType: 'tracepoint', known: true, attachable: 'auto' });
  assert.deepEqual(matchSection('fentry/tcp_connect'), { progType: 'tracing', expectedAttachType: 'trace_fentry', known: true, attachable: 'auto' });
  assert.equal(matchSection(''), undefined);
  assert.equal(matchSection('.text'), undefined);
});

test('network and cgroup sections carry their attach types', () => {
  const cases: [string, string, string | undefined][] = [
    ['tc', 'sched_cls', undefined],
    ['classifier', 'sched_cls', undefined],
    ['cgroup/connect4', 'cgroup_sock_addr', 'cgroup_inet4_connect'],
    ['cgroup/sendmsg6', 'cgroup_sock_addr', 'cgroup_udp6_sendmsg'],
    ['cgroup/sock', 'cgroup_sock', 'cgroup_inet_sock_create'],
    ['cgroup_skb/ingress', 'cgroup_skb', 'cgroup_inet_ingress'],
    ['sockops', 'sock_ops', 'cgroup_sock_ops'],
    ['sk_msg', 'sk_msg', 'sk_msg_verdict'],
    ['sk_skb/stream_verdict', 'sk_skb', 'sk_skb_stream_verdict'],
    ['sk_reuseport/migrate', 'sk_reuseport', 'sk_reuseport_select_or_migrate'],
    ['xdp.frags/devmap', 'xdp', 'xdp_devmap'],
    ['sk_lookup', 'sk_lookup', 'sk_lookup'],
  ];
  for (const [name, progType, expectedAttachType] of cases) {
    const match = matchSection(name);
    assert.equal(match?.progType, progType, name);
    assert.equal(match?.expectedAttachType, expectedAttachType, name);
    assert.equal(match?.known, true, name);
  }
});

test('names newer than libbpf 1.1 are matched but marked with the version that knows them', () => {
  assert.deepEqual(matchSection('tcx/ingress'), { progType: 'sched_cls', expectedAttachType: 'tcx_ingress', known: false, knownSince: '1.3', attachable: 'manual' });
  assert.deepEqual(matchSection('tc/egress'), { progType: 'sched_cls', expectedAttachType: 'tcx_egress', known: false, knownSince: '1.3', attachable: 'manual' });
  assert.equal(matchSection('netkit/primary')?.knownSince, '1.3');
  assert.equal(matchSection('cgroup/connect_unix')?.knownSince, '1.3');
  assert.equal(matchSection('netfilter')?.knownSince, '1.3');
  assert.equal(matchSection('struct_ops.s/init')?.knownSince, '1.2');
  assert.deepEqual(matchSection('uprobe.multi//usr/bin/bash:readline'), { progType: 'kprobe', expectedAttachType: 'trace_uprobe_multi', known: false, knownSince: '1.3', attachable: 'auto' });
  assert.deepEqual(matchSection('kprobe.session/tcp_*'), { progType: 'kprobe', expectedAttachType: 'trace_kprobe_session', known: false, knownSince: '1.5', attachable: 'auto' });
});

test('listSectionNames gives completion entries with templates for the extras', () => {
  const names = listSectionNames();
  const byName = new Map(names.map((n) => [n.name, n]));
  assert.equal(new Set(names.map((n) => n.name)).size, names.length, 'no duplicates');
  assert.deepEqual(byName.get('kprobe'), { name: 'kprobe', progType: 'kprobe', template: 'kprobe/<function>[+<offset>]' });
  assert.deepEqual(byName.get('tracepoint'), { name: 'tracepoint', progType: 'tracepoint', template: 'tracepoint/<category>/<name>' });
  assert.deepEqual(byName.get('tcx/ingress'), { name: 'tcx/ingress', progType: 'sched_cls', knownSince: '1.3' });
  assert.deepEqual(byName.get('xdp'), { name: 'xdp', progType: 'xdp' });
  for (const entry of names) {
    assert.ok(!entry.name.endsWith('+'), entry.name);
    assert.equal(matchSection(entry.name)?.progType, entry.progType, entry.name);
  }
});

const LIBBPF_SO = '/usr/lib/x86_64-linux-gnu/libbpf.so.1';

/** The NUL-terminated printable strings in a binary (the linker may share one string's tail with another). */
function cStrings(path: string): string[] {
  return readFileSync(path).toString('latin1').split('\0').filter((s) => /^[\x20-\x7e]{2,}$/.test(s));
}

test('every name marked as known to libbpf 1.1 is a string in the installed libbpf 1.1, and no newer one is', (t) => {
  if (!existsSync(LIBBPF_SO) || !/libbpf\.so\.1\.1\.\d+$/.test(realpathSync(LIBBPF_SO))) {
    t.skip('libbpf 1.1 is not installed');
    return;
  }
  const strings = cStrings(LIBBPF_SO);
  const exact = new Set(strings);
  for (const entry of listSectionNames()) {
    if (entry.knownSince === undefined) {
      assert.ok(strings.some((s) => s.endsWith(entry.name) || s.endsWith(`${entry.name}+`)), `${entry.name} is in libbpf 1.1`);
    } else {
      assert.ok(!exact.has(entry.name) && !exact.has(`${entry.name}+`), `${entry.name} is not in libbpf 1.1`);
    }
  }
});
