import { parseArgs } from 'node:util';
import { MapDumpRequest, SessionListRequest, type SessionInfo } from '@ebpf-studio/remote-agent';
import { EXIT, UsageFailure } from '../exit-codes';
import { openTarget, TARGET_OPTIONS } from '../target-options';

const PAGE = 100;

function pick(sessions: SessionInfo[], id: string | undefined): SessionInfo[] {
  const chosen = id ? sessions.filter((s) => s.id === id) : sessions;
  if (id && chosen.length === 0) throw new UsageFailure(`no session ${id}`);
  return chosen;
}

/** `ebpf-studio maps [--node N] [--session S] [--map M] [--all-pages] [--watch]`: BTF-decoded map contents. */
export async function mapsCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...TARGET_OPTIONS, session: { type: 'string' }, map: { type: 'string' }, watch: { type: 'boolean', default: false }, 'all-pages': { type: 'boolean', default: false } },
  });
  const target = await openTarget(values);
  let running = true;
  process.once('SIGINT', () => {
    running = false;
  });
  try {
    do {
      for (const s of pick(await target.agent.request(SessionListRequest), values.session)) {
        for (const m of s.maps.filter((x) => !values.map || x.name === values.map)) {
          console.log(`${s.id} ${m.name} (${m.type}, ${m.keySize}→${m.valueSize} bytes, max ${m.maxEntries})`);
          let after: string | undefined;
          do {
            const page = await target.agent.request(MapDumpRequest, { id: s.id, map: m.name, pageSize: PAGE, ...(after ? { after } : {}) });
            for (const e of page.entries) console.log(`  ${JSON.stringify(e.key)} = ${JSON.stringify(e.value)}`);
            after = page.next;
            if (after && !values['all-pages']) console.log('  … (more: --all-pages)');
          } while (after && values['all-pages']);
        }
      }
      if (values.watch && running) await new Promise((r) => setTimeout(r, 1000));
    } while (values.watch && running);
    return EXIT.ok;
  } finally {
    await target.close();
  }
}
