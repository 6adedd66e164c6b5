import { parseArgs } from 'node:util';
import { EventsNotification, EventsSubscribeRequest, EventsUnsubscribeRequest, SessionListRequest } from '@ebpf-studio/remote-agent';
import { EXIT, UsageFailure } from '../exit-codes';
import { openTarget, TARGET_OPTIONS } from '../target-options';

/**
 * `ebpf-studio trace [--node N] [--session S --map M [--type T]]`: stream ring/perf buffer records
 * (decoded with BTF type T) or, without --map, trace_pipe lines, until Ctrl-C.
 */
export async function traceCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...TARGET_OPTIONS, session: { type: 'string' }, map: { type: 'string' }, type: { type: 'string' } } });
  const target = await openTarget(values);
  try {
    const sessions = await target.agent.request(SessionListRequest);
    const session = values.session ? sessions.find((s) => s.id === values.session) : sessions[0];
    if (!session) throw new UsageFailure(values.session ? `no session ${values.session}` : `no sessions on ${target.label}: start one with ebpf-studio attach`);
    const map = values.map ? session.maps.find((m) => m.name === values.map) : undefined;
    if (values.map && !map) throw new UsageFailure(`no map ${values.map} in session ${session.id}`);
    const kind = map ? (map.type === 'ringbuf' ? 'ringbuf' : map.type === 'perf_event_array' ? 'perf' : undefined) : 'trace';
    if (!kind) throw new UsageFailure(`map ${values.map} is a ${map!.type}: trace reads ringbuf and perf_event_array maps`);
    let lastLost = 0;
    let lastDropped = 0;
    target.agent.onNotification(EventsNotification, (batch) => {
      for (const r of batch.records) console.log(typeof r === 'string' ? r : JSON.stringify(r));
      if (batch.lostKernel !== lastLost || batch.droppedTransport !== lastDropped) {
        console.error(`lost by the kernel: ${batch.lostKernel}, dropped in transport: ${batch.droppedTransport}`);
        lastLost = batch.lostKernel;
        lastDropped = batch.droppedTransport;
      }
    });
    const source = kind === 'trace' ? { kind } : { kind, map: map!.name, ...(values.type ? { btfType: values.type } : {}) };
    const { subscription } = await target.agent.request(EventsSubscribeRequest, { id: session.id, source });
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await target.agent.request(EventsUnsubscribeRequest, { id: session.id, subscription }).catch(() => undefined);
    return EXIT.ok;
  } finally {
    await target.close();
  }
}
