import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SessionHeartbeatRequest, type AgentClient } from '@ebpf-studio/remote-agent';
import { checkPolicy, HealthTargetError, parsePolicy, setHealth, type PolicyProblem } from '../../policy';
import { readStatus, writePolicy } from '../../project/policy-maps';
import { effectiveHealth, liveRunState, withStateLock, writeRunState, type RunState } from '../../project/state-file';
import type { HealthParams, PolicyParams, PolicyWriteResult, StatusResult } from '../studio-protocol';
import { fail, targetOf, type StudioContext } from './context';

/**
 * apply, health and status as the CLI commands do them: through the session of the project's running
 * `ebpf-studio run` (its run state), writing only what differs into the policy maps, in planApply's order.
 * The run state and the maps go through the same modules as the CLI's (server/src/project/); their
 * UsageErrors reach the client as failures shown as is (index.ts).
 */

const positioned = (path: string, problems: readonly PolicyProblem[]): string[] => problems.map((p) => `${path}:${p.line}:${p.col}: ${p.message}`);

/** The run's agent, after checking its session answers its owner's token. */
async function connectRun(ctx: StudioContext, project: string): Promise<{ state: RunState; node: string; agent: AgentClient }> {
  const state = liveRunState(project);
  const node = state.target.node ?? 'local';
  const agent = await targetOf(ctx, node, state.target.config, state.target['ssh-config']).agent();
  try {
    await agent.request(SessionHeartbeatRequest, { id: state.session.id, token: state.session.token });
  } catch (err) {
    fail(`the session ${state.session.id} of the run for ${project} cannot be reached on ${node}: ${(err as Error).message}`);
  }
  return { state, node, agent };
}

/** Changes the run state and makes the maps match, under the state lock. */
async function updateRun(ctx: StudioContext, project: string, change: (state: RunState) => RunState, warnings: string[] = []): Promise<PolicyWriteResult> {
  const { node, agent } = await connectRun(ctx, project);
  return withStateLock(project, async () => {
    const next = change(liveRunState(project));
    const policy = parsePolicy(next.policyText, next.policyPath);
    const write = next.policyMaps ? await writePolicy(agent, next.session.id, policy, effectiveHealth(next.health)) : { updates: 0, deletes: 0 };
    writeRunState(project, next);
    return { node, session: next.session.id, ...write, warnings };
  });
}

/** `ebpf-studio apply DIR`: the project's ebpf-studio.yaml becomes the running policy. */
export function apply(ctx: StudioContext, params: PolicyParams): Promise<PolicyWriteResult> {
  const project = resolve(params.dir);
  const path = join(project, 'ebpf-studio.yaml');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    fail(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const check = checkPolicy(text, path);
  if (!check.policy) fail(positioned(path, check.problems).join('\n'));
  return updateRun(ctx, project, (state) => ({ ...state, policyPath: path, policyText: text }), positioned(path, check.warnings));
}

/** `ebpf-studio health DIR SERVICE TARGET up|down`: a manual mark, applied at once. */
export function health(ctx: StudioContext, params: HealthParams): Promise<PolicyWriteResult> {
  const project = resolve(params.dir);
  return updateRun(ctx, project, (state) => {
    try {
      const manual = setHealth(parsePolicy(state.policyText, state.policyPath), state.health.manual, params.service, params.target, params.state);
      return { ...state, health: { ...state.health, manual } };
    } catch (err) {
      if (err instanceof HealthTargetError) fail(err.message);
      throw err;
    }
  });
}

/** `ebpf-studio status DIR`: lb_stats' counts per service and cluster beside the split the policy asks for. */
export async function status(ctx: StudioContext, params: PolicyParams): Promise<StatusResult> {
  const project = resolve(params.dir);
  const { state, node, agent } = await connectRun(ctx, project);
  if (!state.policyMaps) fail(`the run for ${project} loads no program with policy maps (clusterset-socket-lb has them): there is no lb_stats to read`);
  const services = await readStatus(agent, state.session.id, parsePolicy(state.policyText, state.policyPath), effectiveHealth(state.health));
  return {
    node,
    session: state.session.id,
    services: services.map((s) => ({ service: s.service, serviceId: s.serviceId, total: s.total, noBackend: { ...s.noBackend }, clusters: s.clusters.map((c) => ({ ...c })) })),
  };
}
