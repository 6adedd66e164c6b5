import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { EngineError, verifyObjectFile, verifySource, type VerifyReport } from '@ebpf-studio/server';
import { startLocalAgent } from '@ebpf-studio/remote-agent';
import { formatReport, jsonReport } from '../format';
import { EXIT, UsageFailure } from '../exit-codes';
import { parseSets } from '../options';

export const VERIFY_HELP = `usage: ebpf-studio verify FILE.bpf.c|FILE.o... [options]

Compile BPF C with clang and judge every program with the kernel verifier.
  --json               machine-readable result
  --set NAME=VALUE     set a const volatile variable before loading (repeatable)
  --caps LIST          verify as a loader holding only these capabilities (e.g. bpf,net_admin)
  --clang PATH         clang binary (default: clang)
  -I DIR, -D DEF       include directory / preprocessor define (repeatable)
  --cflag FLAG         extra clang flag (repeatable)
  --vmlinux            provide vmlinux.h for this kernel (generated from its BTF once, then cached)
  --log-level 1|2      verifier log level for rejected programs (default 1)
  --timeout MS         clang timeout (default 20000)

exit: 0 every program accepted; 1 a rejection, compile error or no program; 2 could not run`;

export async function verifyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      set: { type: 'string', multiple: true, default: [] },
      caps: { type: 'string' },
      clang: { type: 'string' },
      include: { type: 'string', short: 'I', multiple: true, default: [] },
      define: { type: 'string', short: 'D', multiple: true, default: [] },
      cflag: { type: 'string', multiple: true, default: [] },
      vmlinux: { type: 'boolean', default: false },
      'log-level': { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(VERIFY_HELP);
    return EXIT.ok;
  }
  if (positionals.length === 0) throw new UsageFailure('verify needs a file: ebpf-studio verify FILE.bpf.c');
  const logLevel = values['log-level'] === undefined ? undefined : Number(values['log-level']);
  if (logLevel !== undefined && logLevel !== 1 && logLevel !== 2) throw new UsageFailure('--log-level takes 1 or 2');
  const timeoutMs = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeoutMs !== undefined && !(timeoutMs > 0)) throw new UsageFailure('--timeout takes a positive number of milliseconds');
  const sets = parseSets(values.set);
  const agent = startLocalAgent({ log: (line) => process.stderr.write(`agent: ${line}\n`) });
  try {
    const info = await agent.info();
    if (info.problems.length > 0) throw new EngineError(`cannot verify on this machine: ${info.problems.join('; ')}`);
    const reports: VerifyReport[] = [];
    for (const file of positionals) {
      const options = {
        agent,
        sets,
        ...(values.caps ? { caps: values.caps } : {}),
        ...(values.clang ? { clang: values.clang } : {}),
        includePaths: values.include,
        defines: values.define,
        flags: values.cflag,
        vmlinux: values.vmlinux,
        ...(logLevel ? { logLevel: logLevel as 1 | 2 } : {}),
        ...(timeoutMs ? { timeoutMs } : {}),
      };
      let report: VerifyReport;
      if (file.endsWith('.o')) report = await verifyObjectFile(file, options);
      else {
        let text: string;
        try {
          text = await readFile(file, 'utf8');
        } catch (err) {
          throw new UsageFailure(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
        report = await verifySource(text, file, options);
      }
      reports.push(report);
      if (!values.json) console.log(formatReport(report));
    }
    if (values.json) console.log(JSON.stringify(reports.length === 1 ? jsonReport(reports[0]!) : reports.map(jsonReport), null, 2));
    return reports.every((r) => r.ok) ? EXIT.ok : EXIT.rejected;
  } finally {
    agent.dispose();
  }
}
