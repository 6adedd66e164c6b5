import { parseArgs } from 'node:util';
import { effectiveHealth, readStatus } from '@ebpf-studio/server';
import { EXIT, UsageFailure } from '../exit-codes';
import { connectRun, sessionAttachments } from '../run-state/live-run';
import { appliedPolicy, projectCommand } from '../run-state/project';
import { statusTable } from '../run-state/status-view';

export const STATUS_HELP = `usage: ebpf-studio status DIR [--json]

Per service and cluster of the running \`ebpf-studio run DIR\`: the connects and datagrams the kernel
steered (lb_stats), the live split, and the split the policy asks for under the current health.
--json prints { dir, session, target, startedAt, programs, health, services } (services as the table).`;

export async function statusCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) {
    console.log(STATUS_HELP);
    return EXIT.ok;
  }
  const dir = positionals[0];
  if (!dir || positionals.length > 1) throw new UsageFailure('status takes one project directory: ebpf-studio status DIR [--json]');
  return projectCommand(async () => {
    const { state, target } = await connectRun(dir);
    try {
      const health = effectiveHealth(state.health);
      const services = state.policyMaps ? await readStatus(target.agent, state.session.id, appliedPolicy(state), health) : [];
      const programs = (await sessionAttachments(target.agent, state.session.id)).map((a) => ({ program: a.program, progId: a.progId, target: a.target }));
      if (values.json) {
        console.log(JSON.stringify({ dir, session: state.session.id, target: target.label, startedAt: state.startedAt, programs, health, services }, null, 2));
        return EXIT.ok;
      }
      console.log(`run of ${dir} (pid ${state.pid}, since ${state.startedAt}): session ${state.session.id} on ${target.label}, ${programs.length} programs attached`);
      const marks = Object.entries(health).flatMap(([service, m]) => Object.keys(m).map((k) => `${service} ${k}`));
      if (marks.length > 0) console.log(`marked down: ${marks.join(', ')}`);
      console.log(services.length > 0 ? statusTable(services) : 'no policy maps in this run: nothing to count');
      return EXIT.ok;
    } finally {
      await target.close();
    }
  });
}
