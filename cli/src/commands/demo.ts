import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError, verifySource } from '@ebpf-studio/server';
import { startLocalAgent } from '@ebpf-studio/remote-agent';
import { formatReport } from '../format';
import { EXIT } from '../exit-codes';

const EXAMPLES = join(__dirname, '..', '..', '..', '..', 'examples');

/** Verify the bundled samples against this machine's kernel and print each verdict. */
export async function demoCommand(_argv: string[]): Promise<number> {
  const files = (await readdir(EXAMPLES)).filter((f) => f.endsWith('.bpf.c')).sort();
  const agent = startLocalAgent({ log: (line) => process.stderr.write(`agent: ${line}\n`) });
  try {
    const info = await agent.info();
    if (info.problems.length > 0) throw new EngineError(`cannot verify on this machine: ${info.problems.join('; ')}`);
    console.log(`eBPF Traffic Studio demo — verifying ${files.length} samples with the verifier of kernel ${info.kernelRelease} (libbpf ${info.libbpfVersion})\n`);
    let accepted = 0;
    let rejected = 0;
    for (const name of files) {
      const path = join(EXAMPLES, name);
      const report = await verifySource(await readFile(path, 'utf8'), path, { agent });
      console.log(`── ${name}`);
      console.log(`${formatReport(report)}\n`);
      for (const p of report.programs) {
        if (p.verdict === 'accepted') accepted++;
        else rejected++;
      }
    }
    console.log(`${accepted} programs accepted, ${rejected} rejected (failover-unchecked.bpf.c is rejected on purpose: it shows a diagnostic)`);
    return EXIT.ok;
  } finally {
    agent.dispose();
  }
}
