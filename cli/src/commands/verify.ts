import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { EngineError, verdictMatrix, verifyObjectFile, verifySource, type TargetOutcome, type VerifyOptions, type VerifyReport } from '@ebpf-studio/server';
import { startLocalAgent } from '@ebpf-studio/remote-agent';
import { formatMatrix, formatReport, formatTotals, jsonReport } from '../format';
import { localTarget, type AgentTarget } from '../agent-target';
import { nodeTarget, selectNodes, TARGET_OPTIONS } from '../target-options';
import { EXIT, UsageFailure } from '../exit-codes';
import { expandInputs } from '../inputs';
import { COMPILE_OPTIONS, compileOptionsFrom } from '../options';

export const VERIFY_HELP = `usage: ebpf-studio verify FILE.bpf.c|FILE.o|DIR... [options]

Compile BPF C with clang and judge every program with the kernel verifier (a DIR: every *.bpf.c below it).
The nearest compile_commands.json (the file's directory, an ancestor, or their build/) adds the build's
include paths, macros, -std, -mcpu and warning flags for the file; the options below come after it.
  --json               machine-readable result
  --set NAME=VALUE     set a const volatile variable before loading (repeatable)
  --caps LIST          verify as a loader holding only these capabilities (e.g. bpf,net_admin)
  --clang PATH         clang binary (default: clang)
  -I DIR, -D DEF       include directory / preprocessor define (repeatable)
  --cflag FLAG         extra clang flag (repeatable)
  --build-on-node      compile with each node's own clang and headers (quoted includes must exist there)
  --vmlinux            always provide vmlinux.h for this kernel (generated from its BTF once, then cached);
                       by default it is provided when the source includes vmlinux.h
  --no-vmlinux         never provide it (the project brings its own)
  --log-level 1|2      verifier log level for rejected programs (default 1)
  --timeout MS         clang timeout (default 20000)
  --node N             verify on a node's kernel (repeatable; 'local' is this machine): one verdict per kernel
  --cluster C          every node of a cluster in ebpf-studio.yaml (repeatable)
  --config FILE, --ssh-config FILE, --accept-new-host-key   how nodes are found and trusted

exit: 0 every program accepted; 1 a rejection, compile error or no program; 2 could not run
(with nodes: 2 when a node could not be reached and none rejected)`;

export async function verifyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      ...COMPILE_OPTIONS,
      'build-on-node': { type: 'boolean', default: false },
      'log-level': { type: 'string' },
      timeout: { type: 'string' },
      ...TARGET_OPTIONS,
      node: { type: 'string', multiple: true, default: [] },
      cluster: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(VERIFY_HELP);
    return EXIT.ok;
  }
  if (positionals.length === 0) throw new UsageFailure('verify needs a file: ebpf-studio verify FILE.bpf.c');
  const { files, many } = expandInputs(positionals);
  const logLevel = values['log-level'] === undefined ? undefined : Number(values['log-level']);
  if (logLevel !== undefined && logLevel !== 1 && logLevel !== 2) throw new UsageFailure('--log-level takes 1 or 2');
  const timeoutMs = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeoutMs !== undefined && !(timeoutMs > 0)) throw new UsageFailure('--timeout takes a positive number of milliseconds');
  const compile = compileOptionsFrom(values);
  const engineOptions = (agent: VerifyOptions['agent']): VerifyOptions => ({
    agent,
    ...compile,
    buildOnNode: values['build-on-node'],
    ...(logLevel ? { logLevel: logLevel as 1 | 2 } : {}),
    ...(timeoutMs ? { timeoutMs } : {}),
  });
  if (values.node.length > 0 || values.cluster.length > 0) {
    const { node, cluster, json, ...rest } = values;
    return verifyOnNodes(files, many, node, cluster, rest, json, engineOptions);
  }
  const agent = startLocalAgent({ log: (line) => process.stderr.write(`agent: ${line}\n`) });
  try {
    const info = await agent.info();
    if (info.problems.length > 0) throw new EngineError(`cannot verify on this machine: ${info.problems.join('; ')}`);
    const reports: VerifyReport[] = [];
    for (const file of files) {
      const options = engineOptions(agent);
      let report: VerifyReport;
      if (file.endsWith('.o')) report = await verifyObjectFile(file, options);
      else {
        report = await verifySource(await readSource(file), file, options);
      }
      reports.push(report);
      if (!values.json) console.log(formatReport(report, many));
    }
    if (!values.json && many) console.log(formatTotals(reports));
    if (values.json) console.log(JSON.stringify(many ? reports.map(jsonReport) : jsonReport(reports[0]!), null, 2));
    return reports.every((r) => r.ok) ? EXIT.ok : EXIT.rejected;
  } finally {
    agent.dispose();
  }
}

async function readSource(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageFailure(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** One verdict per node's kernel, side by side; a node that cannot be reached is named, not fatal. */
async function verifyOnNodes(
  files: string[],
  many: boolean,
  nodes: string[],
  clusters: string[],
  values: Parameters<typeof selectNodes>[2],
  json: boolean,
  engineOptions: (agent: VerifyOptions['agent']) => VerifyOptions,
): Promise<number> {
  const wantsLocal = nodes.includes('local');
  const { targets, inventory } = selectNodes(nodes.filter((n) => n !== 'local'), clusters, values);
  type Opened = { name: string; target?: AgentTarget; error?: string };
  const opened = await Promise.all<Opened>([
    ...(wantsLocal ? [Promise.resolve<Opened>({ name: 'local', target: localTarget() })] : []),
    ...targets.map((t) =>
      nodeTarget(t, values, inventory).then(
        (target): Opened => ({ name: t.name, target }),
        (err: Error): Opened => ({ name: t.name, error: err.message }),
      ),
    ),
  ]);
  let worst: number = EXIT.ok;
  const results: object[] = [];
  try {
    for (const file of files) {
      const text = await readSource(file);
      const outcomes: TargetOutcome[] = await Promise.all(
        opened.map(async (o): Promise<TargetOutcome> => {
          if (!o.target) return { node: o.name, error: o.error ?? 'not reached' };
          try {
            const report = await verifySource(text, file, engineOptions(o.target.agent));
            return { node: o.name, kernel: report.kernel ?? 'unknown', report };
          } catch (err) {
            return { node: o.name, error: (err as Error).message };
          }
        }),
      );
      const matrix = verdictMatrix(outcomes);
      if (json) results.push({ file, ...matrix });
      else console.log(formatMatrix(matrix));
      const rejected = outcomes.some((o) => 'report' in o && !o.report.ok);
      worst = Math.max(worst, rejected ? EXIT.rejected : matrix.unreachable.length > 0 ? EXIT.couldNotRun : EXIT.ok);
    }
    if (json) console.log(JSON.stringify(many ? results : results[0], null, 2));
    if (worst === EXIT.couldNotRun && !json) console.error('some nodes could not be reached and none rejected');
    return worst;
  } finally {
    await Promise.all(opened.map((o) => o.target?.close()));
  }
}
