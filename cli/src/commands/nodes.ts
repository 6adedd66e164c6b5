import { parseArgs } from 'node:util';
import { connectNode, openInventory } from '@ebpf-studio/remote-agent';
import { EXIT, UsageFailure } from '../exit-codes';
import { TARGET_OPTIONS } from '../target-options';

interface NodeRow {
  cluster?: string;
  name: string;
  ssh: string;
  reachable: boolean;
  kernel?: string;
  arch?: string;
  node?: string;
  btf?: boolean;
  libbpf?: boolean;
  agent?: string;
  error?: string;
}

/** `ebpf-studio nodes [--config F] [--json]`: the inventory, each node probed over SSH (kernel, reachability). */
export async function nodesCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...TARGET_OPTIONS, json: { type: 'boolean', default: false } } });
  const inventory = openInventory(values.config !== undefined ? { config: values.config } : {});
  if (!inventory) throw new UsageFailure('no ebpf-studio.yaml here or above: create one with clusters and nodes (see docs/ebpf-studio-yaml.md), or pass --config FILE');
  const rows = await Promise.all(
    inventory.nodes.map(async (target): Promise<NodeRow> => {
      const base = { ...(target.cluster ? { cluster: target.cluster } : {}), name: target.name, ssh: target.ssh };
      try {
        const c = await connectNode(target, { inventory, ...(values['ssh-config'] ? { sshConfigFile: values['ssh-config'] } : {}), acceptNewHostKey: values['accept-new-host-key'] });
        try {
          const p = c.info;
          return { ...base, reachable: true, kernel: p.kernelRelease, arch: p.machine, node: p.nodeFound || 'none (a runtime is uploaded)', btf: p.btf, libbpf: p.libbpf, agent: p.payload };
        } finally {
          await c.close();
        }
      } catch (err) {
        return { ...base, reachable: false, error: (err as Error).message };
      }
    }),
  );
  if (values.json) console.log(JSON.stringify(rows, null, 2));
  else {
    for (const r of rows) {
      const where = `${r.cluster ? `${r.cluster}/` : ''}${r.name} (${r.ssh})`;
      console.log(r.reachable ? `✓ ${where}: kernel ${r.kernel} ${r.arch}, Node.js ${r.node}, BTF ${r.btf ? 'yes' : 'NO'}, libbpf ${r.libbpf ? 'yes' : 'NO'}, agent ${r.agent}` : `✗ ${where}: ${r.error}`);
    }
  }
  return rows.every((r) => r.reachable) ? EXIT.ok : EXIT.couldNotRun;
}
