import { effectiveHealth, liveRunState, setHealth, withStateLock, writePolicy, writeRunState, type HealthStatus, type PolicyWrite, type RunState } from '@ebpf-studio/server';
import { SessionListRequest, type AgentClient, type AttachmentInfo } from '@ebpf-studio/remote-agent';
import type { AgentTarget } from '../agent-target';
import { UsageFailure } from '../exit-codes';
import { openTarget } from '../target-options';
import { appliedPolicy } from './project';

/**
 * Reaching a running `ebpf-studio run` from anywhere (another process, or the demo in-process): its agent
 * and session, and changes to what it applies — written to the maps first, then to the state file.
 */

/** The agent holding the run's session (this machine's or its node's), after checking the session is there. */
export async function connectRun(project: string): Promise<{ state: RunState; target: AgentTarget }> {
  const state = liveRunState(project);
  const target = await openTarget(state.target);
  try {
    await sessionAttachments(target.agent, state.session.id);
    return { state, target };
  } catch (err) {
    await target.close();
    throw new UsageFailure(`the session ${state.session.id} of the run for ${project} cannot be reached on ${target.label}: ${(err as Error).message}`);
  }
}

/**
 * Changes the run's state (policy text, manual or probed health) and makes the policy maps match, while
 * holding the state lock: the run's probe, `health` and `apply` never interleave their writes.
 */
export async function updateRun(project: string, agent: AgentClient, change: (state: RunState) => RunState): Promise<{ state: RunState; write: PolicyWrite }> {
  return withStateLock(project, async () => {
    const next = change(liveRunState(project));
    const write = next.policyMaps ? await writePolicy(agent, next.session.id, appliedPolicy(next), effectiveHealth(next.health)) : { updates: 0, deletes: 0 };
    writeRunState(project, next);
    return { state: next, write };
  });
}

/** `ebpf-studio health`: marks a cluster or endpoint of a service (throws HealthTargetError for one it does not have). */
export function markHealth(project: string, agent: AgentClient, service: string, what: string, status: HealthStatus): Promise<{ state: RunState; write: PolicyWrite }> {
  return updateRun(project, agent, (s) => ({ ...s, health: { ...s.health, manual: setHealth(appliedPolicy(s), s.health.manual, service, what, status) } }));
}

/** The session's attachments as the node sees them now (program ids prove nothing was reloaded). */
export async function sessionAttachments(agent: AgentClient, session: string): Promise<AttachmentInfo[]> {
  const found = (await agent.request(SessionListRequest)).find((s) => s.id === session);
  if (!found) throw new UsageFailure(`session ${session} is gone`);
  return found.attachments;
}
