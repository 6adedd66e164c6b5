import { connect } from 'node:net';
import { ALL_UP, readRunState, routeService, type HealthState, type HealthStatus, type Policy, type ServiceDef, type SocketAddress } from '@ebpf-studio/server';
import type { AgentClient } from '@ebpf-studio/remote-agent';
import { updateRun } from './live-run';
import { ProbeStreaks } from './probe-streaks';
import { appliedPolicy } from './project';

/**
 * The TCP health probe of services that declare `probe: { tcp: true, ... }`, run by the `run` process:
 * every interval it connects to each backend the service can use (an endpoint of a cluster reached
 * directly, the gateway of one reached through it) and marks down those that leave `failures` probes in a
 * row unanswered within the timeout (at start, one round decides: nothing is attached yet).
 * A change is written to the maps at once (through updateRun). It follows `apply`: each round reads the
 * policy the run applies now.
 */

const TICK_MS = 100;

type Marks = Record<string, HealthStatus>;

function tcpProbe(address: SocketAddress, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: address.host, port: address.port });
    const done = (problem: string | undefined): void => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
    socket.once('connect', () => done(undefined));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}

/** The backends of `service` that do not answer, with why. */
async function probeService(policy: Policy, service: ServiceDef, timeoutMs: number): Promise<Map<string, string>> {
  const backends = new Map(routeService(policy, service, ALL_UP).clusters.flatMap((c) => c.backends).map((b) => [b.text, b]));
  const results = await Promise.all([...backends.values()].map(async (b) => [b.text, await tcpProbe(b, timeoutMs)] as const));
  return new Map(results.filter((r): r is readonly [string, string] => r[1] !== undefined));
}

const probed = (policy: Policy): ServiceDef[] => policy.services.filter((s) => s.probe?.tcp);

/** One round over every probed service: the health the probe reports. */
export async function probeAll(policy: Policy): Promise<HealthState> {
  const state: Record<string, Marks> = {};
  for (const service of probed(policy)) {
    const down = await probeService(policy, service, service.probe!.timeoutMs);
    if (down.size > 0) state[service.name] = Object.fromEntries([...down.keys()].map((k) => [k, 'down' as const]));
  }
  return state;
}

/** Probes on each service's interval until stopped; reports changes through `log`. */
export class Prober {
  private readonly due = new Map<string, number>();
  private readonly inFlight = new Set<string>();
  private readonly streaks = new ProbeStreaks();
  private timer: NodeJS.Timeout | undefined;
  private applied: { text: string; policy: Policy } | undefined;

  constructor(
    private readonly project: string,
    private readonly agent: AgentClient,
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const state = readRunState(this.project);
    if (!state) return;
    if (this.applied?.text !== state.policyText) this.applied = { text: state.policyText, policy: appliedPolicy(state) };
    const { policy } = this.applied;
    const now = Date.now();
    for (const service of probed(policy)) {
      if (this.inFlight.has(service.name)) continue;
      const due = this.due.get(service.name);
      if (due === undefined) this.due.set(service.name, now + service.probe!.intervalMs);
      if (due === undefined || now < due) continue;
      this.due.set(service.name, now + service.probe!.intervalMs);
      this.inFlight.add(service.name);
      void this.round(policy, service).finally(() => this.inFlight.delete(service.name));
    }
  }

  private async round(policy: Policy, service: ServiceDef): Promise<void> {
    const unanswered = await probeService(policy, service, service.probe!.timeoutMs);
    if (!this.timer) return;
    const known = readRunState(this.project)?.health.probe[service.name] ?? {};
    const down = this.streaks.record(service.name, unanswered, service.probe!.failures, new Set(Object.keys(known)));
    const marks: Marks = Object.fromEntries([...down.keys()].map((k) => [k, 'down' as const]));
    if (JSON.stringify(Object.keys(known).sort()) === JSON.stringify([...down.keys()].sort())) return;
    let before: Marks = {};
    try {
      await updateRun(this.project, this.agent, (state) => {
        before = { ...state.health.probe[service.name] };
        const probe: Record<string, Marks> = { ...state.health.probe };
        if (down.size > 0) probe[service.name] = marks;
        else delete probe[service.name];
        return { ...state, health: { ...state.health, probe } };
      });
    } catch (err) {
      this.log(`probe: ${service.name}: could not write the result: ${(err as Error).message}`);
      return;
    }
    for (const [backend, why] of down) if (!before[backend]) this.log(`probe: ${service.name} ${backend} is down (${why})`);
    for (const backend of Object.keys(before)) if (!down.has(backend)) this.log(`probe: ${service.name} ${backend} is up again`);
  }
}
