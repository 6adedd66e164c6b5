import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { startLocalAgent } from '@ebpf-studio/remote-agent';
import { requireKernel, tempDir } from '@ebpf-studio/test-support';
import { verifySource } from '../src/index';

test('a rejection whose verifier log names no reason says the errno, and for a struct_ops program without its map, why (real kernel)', async (t) => {
  if (!requireKernel(t)) return;
  const text = [
    '#include <linux/bpf.h>',
    '#include <bpf/bpf_helpers.h>',
    '',
    'SEC("struct_ops/cong_avoid")',
    'int cong_avoid(void *ctx)',
    '{',
    '\treturn 0;',
    '}',
    '',
    'char LICENSE[] SEC("license") = "GPL";',
    '',
  ].join('\n');
  const agent = startLocalAgent();
  try {
    const report = await verifySource(text, join(tempDir(), 'cc-without-map.bpf.c'), { agent });
    assert.equal(report.programs[0]?.verdict, 'rejected');
    const d = report.diagnostics.find((x) => x.severity === 'error');
    assert.ok(d, JSON.stringify(report.diagnostics));
    assert.equal(d.line, 4, 'on the SEC line');
    assert.match(d.kernelMessage, /^the kernel refused the program with ENOTSUPP \(524\) and its verifier log gives no reason: a struct_ops program loads only as a member of a SEC\("\.struct_ops"\) map/);
  } finally {
    agent.dispose();
  }
});
