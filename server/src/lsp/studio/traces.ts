import { EventsNotification, EventsSubscribeRequest, EventsUnsubscribeRequest, SessionListRequest, type AgentClient, type EventBatch, type EventsSubscribeParams } from '@ebpf-studio/remote-agent';
import { StudioMethods, type TraceEvents, type TraceStartParams, type TraceStartResult, type TraceStopParams } from '../studio-protocol';
import { agentOf, fail, type StudioContext } from './context';

/** Batches written to the client but not yet taken by it; beyond this, batches are dropped and counted. */
const MAX_IN_FLIGHT = 16;

interface Trace {
  readonly agent: AgentClient;
  readonly session: string;
  readonly subscription: string;
  inFlight: number;
  /** Records dropped here because the client lagged. */
  dropped: number;
}

/**
 * Event streams (ring/perf buffers, trace_pipe) of sessions, forwarded to the client as
 * `ebpfStudio/trace.events` with their trace id; a client that lags loses batches, counted in droppedTransport.
 */
export class Traces {
  private readonly traces = new Map<string, Trace>();
  private readonly routed = new WeakSet<AgentClient>();
  private next = 1;

  constructor(private readonly ctx: StudioContext) {}

  async start(params: TraceStartParams): Promise<TraceStartResult> {
    const agent = await agentOf(this.ctx, params.node);
    const session = (await agent.request(SessionListRequest)).find((s) => s.id === params.session);
    if (!session) fail(`no session ${params.session} on ${params.node}`);
    let source: EventsSubscribeParams['source'] = { kind: 'trace' };
    if (params.map !== undefined) {
      const map = session.maps.find((m) => m.name === params.map);
      if (!map) fail(`no map ${params.map} in session ${session.id} (maps: ${session.maps.map((m) => m.name).join(', ') || 'none'})`);
      const kind = map.type === 'ringbuf' ? 'ringbuf' : map.type === 'perf_event_array' ? 'perf' : undefined;
      if (!kind) fail(`map ${map.name} is a ${map.type}: a trace reads ringbuf and perf_event_array maps`);
      source = { kind, map: map.name, ...(params.btfType ? { btfType: params.btfType } : {}) };
    }
    this.route(agent);
    const { subscription } = await agent.request(EventsSubscribeRequest, { id: session.id, source });
    const trace = `trace-${this.next++}`;
    this.traces.set(trace, { agent, session: session.id, subscription, inFlight: 0, dropped: 0 });
    return { trace };
  }

  async stop(params: TraceStopParams): Promise<void> {
    const t = this.traces.get(params.trace);
    if (!t) fail(`no trace ${params.trace}`);
    this.traces.delete(params.trace);
    await t.agent.request(EventsUnsubscribeRequest, { id: t.session, subscription: t.subscription }).catch(() => undefined);
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.traces.keys()].map((trace) => this.stop({ trace })));
  }

  /** One notification handler per agent, routing batches by subscription. */
  private route(agent: AgentClient): void {
    if (this.routed.has(agent)) return;
    this.routed.add(agent);
    agent.onNotification(EventsNotification, (batch) => {
      for (const [trace, t] of this.traces) if (t.agent === agent && t.subscription === batch.subscription) this.forward(trace, t, batch);
    });
  }

  private forward(trace: string, t: Trace, batch: EventBatch): void {
    if (t.inFlight >= MAX_IN_FLIGHT) {
      t.dropped += batch.records.length;
      return;
    }
    t.inFlight++;
    const events: TraceEvents = {
      trace,
      lines: batch.records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))),
      lostKernel: batch.lostKernel,
      droppedTransport: batch.droppedTransport + t.dropped,
    };
    void this.ctx.connection.sendNotification(StudioMethods.traceEvents, events).finally(() => {
      t.inFlight--;
    });
  }
}
