import { parseArgs } from 'node:util';
import { effectiveHealth } from '@ebpf-studio/server';
import { EXIT, UsageFailure } from '../exit-codes';
import { connectRun, markHealth } from '../run-state/live-run';
import { appliedPolicy, projectCommand } from '../run-state/project';
import { policySplit } from '../run-state/status-view';

export const HEALTH_HELP = `usage: ebpf-studio health DIR SERVICE CLUSTER|ENDPOINT up|down

Mark a cluster, an endpoint or a gateway (address:port) of SERVICE down or up again for the running
\`ebpf-studio run DIR\`, and write the change into its maps at once: FailOver moves to the next
cluster, ActiveActive gives the share to the others. Marks from the run's probe are kept apart.`;

export async function healthCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    console.log(HEALTH_HELP);
    return EXIT.ok;
  }
  const [dir, service, what, status, ...extra] = positionals;
  if (!dir || !service || !what || (status !== 'up' && status !== 'down') || extra.length > 0) {
    throw new UsageFailure('usage: ebpf-studio health DIR SERVICE CLUSTER|ENDPOINT up|down');
  }
  return projectCommand(async () => {
    const { target } = await connectRun(dir);
    try {
      const { state, write } = await markHealth(dir, target.agent, service, what, status);
      console.log(`${service}: ${what} marked ${status} (${write.updates} map entries written, ${write.deletes} deleted)`);
      console.log(`${service}: new connections go to ${policySplit(appliedPolicy(state), effectiveHealth(state.health), service)}`);
      return EXIT.ok;
    } finally {
      await target.close();
    }
  });
}
