import { parseArgs } from 'node:util';
import type { Policy } from '@ebpf-studio/server';
import { EXIT, UsageFailure } from '../exit-codes';
import { connectRun, sessionAttachments, updateRun } from '../run-state/live-run';
import { appliedPolicy, loadProject, projectCommand } from '../run-state/project';

export const APPLY_HELP = `usage: ebpf-studio apply DIR

Write DIR/ebpf-studio.yaml's services and policy (weights, failover order, endpoints) and the programs'
rules: and nextHop: into the policy maps of the running \`ebpf-studio run DIR\` (each template's, as its
template.json's "policy" says), without reloading anything: the program ids are printed before and
after. Any other change to programs: needs a new run.`;

/** What needs a new run when it changes: everything of programs: but the rules and nextHop, which apply writes. */
const programsOf = (policy: Policy): string => JSON.stringify(policy.programs.map(({ at: _at, rules: _rules, nextHop: _nextHop, ...rest }) => rest));

export async function applyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    console.log(APPLY_HELP);
    return EXIT.ok;
  }
  const dir = positionals[0];
  if (!dir || positionals.length > 1) throw new UsageFailure('apply takes one project directory: ebpf-studio apply DIR');
  return projectCommand(async () => {
    const project = loadProject(dir, (t) => console.error(t));
    const { state, target } = await connectRun(dir);
    try {
      if (!state.policyMaps) throw new UsageFailure(`the run for ${dir} loaded no program with policy maps: there is nothing to apply`);
      if (programsOf(appliedPolicy(state)) !== programsOf(project.policy)) {
        console.error('warning: programs: changed since the run started; apply writes services and policy only (restart the run to reload programs)');
      }
      const before = await sessionAttachments(target.agent, state.session.id);
      const { write } = await updateRun(dir, target.agent, (s) => ({ ...s, policyPath: project.path, policyText: project.text }));
      const after = await sessionAttachments(target.agent, state.session.id);
      console.log(`applied ${project.path}: ${project.policy.services.length} services; ${write.updates} map entries written, ${write.deletes} deleted (session ${state.session.id} on ${target.label})`);
      let reloaded = false;
      for (const a of before) {
        const now = after.find((b) => b.id === a.id);
        reloaded ||= now?.progId !== a.progId;
        console.log(`  ${a.program}: prog id ${a.progId} before, ${now?.progId ?? 'gone'} after`);
      }
      console.log(reloaded ? 'programs changed while applying: something else reloaded them' : 'the same programs before and after: nothing was reloaded');
      return reloaded ? EXIT.rejected : EXIT.ok;
    } finally {
      await target.close();
    }
  });
}
