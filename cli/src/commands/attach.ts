import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { readBpfObject } from '@ebpf-studio/libbpf-ts';
import { AttachTargetError, SessionController, StatsRequest, resolveAttachTarget } from '@ebpf-studio/remote-agent';
import { compileSource, settingsToPatches, verifySource } from '@ebpf-studio/server';
import { EXIT, UsageFailure } from '../exit-codes';
import { formatReport } from '../format';
import { parseDurationMs, parseSets } from '../options';
import { openTarget, TARGET_OPTIONS } from '../target-options';

export const ATTACH_HELP = `usage: ebpf-studio attach FILE.bpf.c --prog NAME --to TARGET [--node N] [options]

Verify, load and attach one program in a session, show its live stats until Ctrl-C, then detach.
  --to TARGET          interface (xdp; tc as IFACE[:ingress|:egress]), cgroup path (cgroup hooks,
                       sockops), sockhash map name (sk_msg); kprobe/tracepoint take it from SEC()
  --lease 15s          roll back this long after the last heartbeat (a dropped connection, a crash)
  --persistent         pin under /sys/fs/bpf/ebpf-studio/<name> so it stays attached after exit
  --native             XDP in native (driver) mode instead of generic
  --force              attach XDP/tc even to the interface carrying the SSH session
  --set NAME=VALUE     const volatile setting (repeatable)
  --node N             a node from ebpf-studio.yaml, an ssh alias or user@host[:port]`;

export async function attachCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      prog: { type: 'string' },
      to: { type: 'string' },
      lease: { type: 'string', default: '15s' },
      persistent: { type: 'boolean', default: false },
      native: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      set: { type: 'string', multiple: true, default: [] },
      name: { type: 'string' },
      ...TARGET_OPTIONS,
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(ATTACH_HELP);
    return EXIT.ok;
  }
  const file = positionals[0];
  if (!file) throw new UsageFailure('attach needs a file: ebpf-studio attach FILE.bpf.c --prog NAME --to TARGET');
  const leaseMs = parseDurationMs(values.lease, '--lease');
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageFailure(`cannot read ${file}: ${err.code ?? err.message}`);
  });
  const sets = parseSets(values.set);
  const target = await openTarget(values);
  let session: SessionController | undefined;
  try {
    const report = await verifySource(text, file, { agent: target.agent, sets });
    if (!report.ok) {
      console.log(formatReport(report));
      return EXIT.rejected;
    }
    const compiled = await compileSource(text, file);
    const object = compiled.object!;
    const { spec } = readBpfObject(object);
    const programName = values.prog ?? (spec.programs.length === 1 ? spec.programs[0]!.name : undefined);
    const program = spec.programs.find((p) => p.name === programName);
    if (!program) throw new UsageFailure(`--prog must name one of: ${spec.programs.map((p) => p.name).join(', ')}`);
    let attachTarget;
    try {
      attachTarget = resolveAttachTarget(program.section, values.to, { xdpMode: values.native ? 'native' : 'generic' });
    } catch (err) {
      if (err instanceof AttachTargetError) throw new UsageFailure(err.message);
      throw err;
    }
    session = await SessionController.open(target.agent, { name: values.name ?? program.name, leaseMs, persistent: values.persistent }, (m) => process.stderr.write(`${m}\n`));
    const patches = settingsToPatches(sets, spec.globals);
    const info = await session.attach({ object: Buffer.from(object).toString('base64'), program: program.name, target: attachTarget, force: values.force, patches });
    console.log(`attached ${info.program} (prog id ${info.progId}) to ${JSON.stringify(info.target)} as ${info.mechanism}${info.linkId !== undefined ? ` ${info.linkId}` : ''} on ${target.label}; session ${session.handle.id}, lease ${leaseMs} ms`);
    for (const w of info.warnings) console.log(`warning: ${w}`);
    console.log('live stats (kernel-wide BPF_ENABLE_STATS is on while this runs); Ctrl-C detaches');
    const stop = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    let previous = 0;
    let running = true;
    void stop.then(() => {
      running = false;
    });
    while (running) {
      const stats = await target.agent.request(StatsRequest, { id: session.handle.id, enable: true });
      for (const p of stats.programs) {
        console.log(`${new Date().toISOString().slice(11, 19)} ${p.program}: ${p.runCount} runs (+${p.runCount - previous}/s), avg ${p.avgNs.toFixed(0)} ns`);
        previous = p.runCount;
      }
      await Promise.race([stop, new Promise((r) => setTimeout(r, 1000))]);
    }
    await session.close();
    session = undefined;
    console.log(values.persistent ? 'session closed; pinned attachments stay (ebpf-studio detach removes them)' : 'detached');
    return EXIT.ok;
  } finally {
    if (session) await session.close().catch(() => undefined);
    await target.close();
  }
}
