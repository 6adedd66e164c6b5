import assert from 'node:assert/strict';
import test from 'node:test';
import { kernelKfuncs, kfuncDoc, type KfuncDoc } from '../src/knowledge/kfuncs';
import { KnowledgeService, type KnowledgeTarget } from '../src/lsp/knowledge-service';

/** A target whose answers the test gives: each fetch takes the next one. */
class ScriptedTarget implements KnowledgeTarget {
  kfuncFetches = 0;
  constructor(
    readonly key: string,
    private readonly kfuncAnswers: (() => Promise<KfuncDoc[]>)[],
    private readonly helperTable: Record<string, number[]> = {},
  ) {}

  helpers(): Promise<Record<string, number[]>> {
    return Promise.resolve(this.helperTable);
  }

  kfuncs(): Promise<KfuncDoc[]> {
    const answer = this.kfuncAnswers[this.kfuncFetches++];
    return answer ? answer() : Promise.reject(new Error('no more answers'));
  }
}

const kfunc = (name: string): KfuncDoc => kfuncDoc({ name, btfId: 1, returnType: 'void', params: [] });
const names = (list: KfuncDoc[]): string[] => list.map((k) => k.name);

async function until(condition: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function localKfuncs(t: test.TestContext): KfuncDoc[] | undefined {
  const local = kernelKfuncs();
  if (local.length === 0) t.skip('this machine has no kfuncs to stand in (no BTF, or none tagged)');
  return local.length > 0 ? local : undefined;
}

test('until a target\'s kfuncs arrive this machine\'s stand in; then the target\'s, fetched once per target', async (t) => {
  const local = localKfuncs(t);
  if (!local) return;
  let release: (list: KfuncDoc[]) => void = () => undefined;
  const node = new ScriptedTarget('node', [() => new Promise((resolve) => (release = resolve))]);
  const bare = new ScriptedTarget('bare', [() => Promise.resolve([])]);
  let current: KnowledgeTarget = node;
  const knowledge = new KnowledgeService(() => [], () => current);

  assert.deepEqual(names(knowledge.kfuncs()), names(local), 'loading: this machine\'s, without waiting');
  release([kfunc('node_only')]);
  await until(() => knowledge.kfunc('node_only') !== undefined, 'the node\'s kfuncs');
  assert.deepEqual(names(knowledge.kfuncs()), ['node_only']);
  assert.equal(knowledge.kfunc(local[0]!.name), undefined, 'this machine\'s are gone once the target\'s are known');

  current = bare;
  knowledge.kfuncs();
  await until(() => knowledge.kfuncs().length === 0, 'the bare node\'s (none)');
  current = node;
  assert.deepEqual(names(knowledge.kfuncs()), ['node_only'], 'back to the first target: its cached kfuncs at once');
  assert.deepEqual([node.kfuncFetches, bare.kfuncFetches], [1, 1]);
});

test('a failed fetch leaves this machine\'s kfuncs standing in, and is tried again only after the retry time', async (t) => {
  const local = localKfuncs(t);
  if (!local) return;
  const failing = new ScriptedTarget('failing', [() => Promise.reject(new Error('unreachable'))]);
  const patient = new KnowledgeService(() => [], () => failing, 60_000);
  patient.kfuncs();
  await until(() => failing.kfuncFetches === 1, 'the first fetch');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(names(patient.kfuncs()), names(local));
  assert.equal(failing.kfuncFetches, 1, 'not again within the retry time');

  const throwsAtOnce = (): Promise<KfuncDoc[]> => {
    throw new Error('no connection yet');
  };
  const recovering = new ScriptedTarget('recovering', [throwsAtOnce, () => Promise.resolve([kfunc('late')])]);
  const eager = new KnowledgeService(() => [], () => recovering, 0);
  await until(() => names(eager.kfuncs()).includes('late'), 'the second fetch\'s kfuncs');
  assert.equal(recovering.kfuncFetches, 2);
});

test('helper availability is the current target\'s', async () => {
  const tc = new ScriptedTarget('tc-node', [() => Promise.resolve([])], { sched_cls: [1, 9] });
  const xdp = new ScriptedTarget('xdp-node', [() => Promise.resolve([])], { xdp: [1] });
  let current: KnowledgeTarget = tc;
  const knowledge = new KnowledgeService(() => [], () => current);
  assert.deepEqual(await knowledge.availableHelpers('sched_cls'), new Set([1, 9]));
  assert.equal(await knowledge.availableHelpers('xdp'), undefined, 'not known for that target');
  current = xdp;
  assert.deepEqual(await knowledge.availableHelpers('xdp'), new Set([1]));
});
