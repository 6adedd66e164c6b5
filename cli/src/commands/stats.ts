import { parseArgs } from 'node:util';
import { SessionListRequest, StatsRequest } from '@ebpf-studio/remote-agent';
import { EXIT } from '../exit-codes';
import { parseDurationMs } from '../options';
import { openTarget, TARGET_OPTIONS } from '../target-options';

/**
 * `ebpf-studio stats [--node N] [--for 1s]`: run counts and average run time of every attached program,
 * measured over a window (BPF_ENABLE_STATS is kernel-wide, so it is held only for that window).
 */
export async function statsCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...TARGET_OPTIONS, for: { type: 'string', default: '1s' } } });
  const windowMs = parseDurationMs(values.for, '--for');
  const target = await openTarget(values);
  try {
    for (const s of await target.agent.request(SessionListRequest)) {
      const before = await target.agent.request(StatsRequest, { id: s.id, enable: true });
      await new Promise((r) => setTimeout(r, windowMs));
      const after = await target.agent.request(StatsRequest, { id: s.id, enable: false });
      for (const p of after.programs) {
        const was = before.programs.find((b) => b.progId === p.progId);
        const runs = p.runCount - (was?.runCount ?? 0);
        const ns = p.runTimeNs - (was?.runTimeNs ?? 0);
        console.log(`${s.id} ${p.program} (prog ${p.progId}): ${((runs * 1000) / windowMs).toFixed(0)} runs/s, avg ${runs > 0 ? (ns / runs).toFixed(0) : '-'} ns, CPU ${((ns / (windowMs * 1e6)) * 100).toFixed(2)}%`);
      }
    }
    console.log(`(kernel-wide run-time stats were on for ${windowMs} ms)`);
    return EXIT.ok;
  } finally {
    await target.close();
  }
}
