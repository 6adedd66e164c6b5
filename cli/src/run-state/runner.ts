import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readBpfObject } from '@ebpf-studio/libbpf-ts';
import { SessionCloseRequest, SessionController, resolveAttachTarget, type AttachTarget } from '@ebpf-studio/remote-agent';
import {
  compileSource,
  effectiveHealth,
  EngineError,
  findTemplate,
  isPolicyCompiler,
  listTemplates,
  POLICY_COMPILERS,
  pidAlive,
  programSets,
  readRunState,
  removeRunState,
  settingsToPatches,
  statePath,
  verifySource,
  writePolicy,
  writeRunState,
  type ProgramDef,
  type RunState,
  type RunTarget,
  type TemplateManifest,
} from '@ebpf-studio/server';
import type { AgentTarget } from '../agent-target';
import { cgroupBelow, ensureCgroup, localCgroup2Mount, removeCgroups } from '../cgroups';
import { UsageFailure } from '../exit-codes';
import { formatReport } from '../format';
import { openTarget, type TargetValues } from '../target-options';
import { Prober, probeAll } from './probe';
import { loadProject, type Project } from './project';

/**
 * What `ebpf-studio run` does, usable in-process (the demo runs the same code): read the project, create
 * its cgroups, verify, load and attach every program in one session (the programs of one object share its
 * maps: same object bytes and patches), write the compiled policy into the policy maps of each template
 * that has a compiler (template.json's `policy`, see writePolicy), keep the run state and
 * probe health; `stop()` closes the session (detaching everything) and removes the cgroups it created.
 */

/** A program did not compile or the verifier rejected it (the report has been printed). */
export class ProgramRejected extends Error {}

export interface RunOptions {
  readonly project: string;
  /** --node and how nodes are found; nothing: this machine. */
  readonly target: TargetValues;
  readonly leaseMs: number;
  /** Progress, for people. */
  readonly log: (line: string) => void;
  /** Warnings and trouble (stderr). */
  readonly warn: (text: string) => void;
}

export interface RunningProject {
  readonly project: Project;
  readonly target: AgentTarget;
  readonly state: RunState;
  /** Closes the session, removes the cgroups it created and the run state; returns what it had to leave. Idempotent. */
  stop(): Promise<string[]>;
}

/** One BPF object to load: a template's program file with one set of settings, and the programs to attach from it. */
interface ObjectPlan {
  readonly template: TemplateManifest;
  readonly source: string;
  readonly sets: Record<string, string>;
  readonly attach: { program: string; section: string; target: AttachTarget; label: string }[];
}

function attachTargetOf(def: ProgramDef, program: TemplateManifest['programs'][number], cgroup: string | undefined): { target: AttachTarget; label: string } {
  if (program.attach === 'cgroup') return { target: resolveAttachTarget(program.section, cgroup), label: `cgroup ${cgroup}` };
  if (program.attach === 'sk_msg' && program.map) return { target: resolveAttachTarget(program.section, program.map), label: `map ${program.map}` };
  const iface = def.attach.interface!;
  const to = program.attach === 'tc' ? `${iface}:${program.direction ?? 'ingress'}` : iface;
  return { target: resolveAttachTarget(program.section, to), label: `interface ${to}` };
}

/** The objects to load, each program's cgroup resolved below the mount (the mount itself refused). */
function planObjects(project: Project, mount: string): { objects: ObjectPlan[]; cgroups: string[] } {
  const catalog = listTemplates();
  const objects = new Map<string, ObjectPlan>();
  const cgroups: string[] = [];
  for (const def of project.policy.programs) {
    const template = findTemplate(catalog, def.template)!;
    const source = join(project.dir, template.source);
    const sets = programSets(def, template);
    const cgroup = def.attach.cgroup === undefined ? undefined : cgroupBelow(mount, def.attach.cgroup);
    if (cgroup && !cgroups.includes(cgroup)) cgroups.push(cgroup);
    const key = `${source}\0${JSON.stringify(sets)}`;
    const plan = objects.get(key) ?? { template, source, sets, attach: [] };
    objects.set(key, plan);
    for (const program of template.programs.filter((p) => def.load === undefined || def.load.includes(p.name))) {
      plan.attach.push({ program: program.name, section: program.section, ...attachTargetOf(def, program, cgroup) });
    }
  }
  for (const compiler of POLICY_COMPILERS) {
    const withPolicy = [...objects.values()].filter((o) => o.template.policy === compiler);
    if (withPolicy.length > 1) {
      throw new UsageFailure(`programs ${withPolicy.map((o) => o.template.name).join(', ')}: the session reaches policy maps by name, so every ${compiler} program of a project needs the same settings`);
    }
  }
  return { objects: [...objects.values()], cgroups };
}

/** A run that died without cleaning up: its cgroups go now, its session is closed (or its lease runs out). */
async function sweepStale(project: Project, target: AgentTarget, targetValues: RunTarget, warn: (text: string) => void): Promise<void> {
  const stale = readRunState(project.dir);
  if (!stale) return;
  if (pidAlive(stale.pid)) throw new UsageFailure(`a run for ${project.dir} is already running (pid ${stale.pid}): stop it first (Ctrl-C)`);
  if (JSON.stringify(stale.target) === JSON.stringify(targetValues)) {
    await target.agent.request(SessionCloseRequest, { id: stale.session.id, token: stale.session.token }).catch(() => undefined);
  }
  const kept = await removeCgroups(stale.createdCgroups);
  if (kept.length > 0) warn(`left from an earlier run that died, still in use: ${kept.join(', ')}`);
  removeRunState(project.dir);
}

export async function startRun(options: RunOptions): Promise<RunningProject> {
  const { log, warn } = options;
  const project = loadProject(options.project, warn);
  const targetValues: RunTarget = Object.fromEntries(
    (['node', 'config', 'ssh-config'] as const).filter((k) => options.target[k] !== undefined).map((k) => [k, options.target[k]]),
  );
  const target = await openTarget(options.target);
  const created: string[] = [];
  let session: SessionController | undefined;
  let prober: Prober | undefined;
  let stopped = false;
  const stop = async (): Promise<string[]> => {
    if (stopped) return [];
    stopped = true;
    const left: string[] = [];
    prober?.stop();
    if (session) {
      const ref = { id: session.handle.id, token: session.handle.token };
      await session.close().catch(async () => {
        // A terminal's Ctrl-C reaches the local agent too (same process group): ask a fresh one.
        try {
          const fresh = await openTarget(options.target);
          await fresh.agent.request(SessionCloseRequest, ref).finally(() => fresh.close());
        } catch (err) {
          left.push(`session ${ref.id}: ${(err as Error).message} (its lease rolls it back)`);
        }
      });
    }
    for (const path of await removeCgroups(created)) left.push(`cgroup ${path} (still in use)`);
    if (readRunState(project.dir)?.pid === process.pid) removeRunState(project.dir);
    await target.close();
    return left;
  };
  try {
    const info = await target.agent.info();
    if (info.problems.length > 0) throw new EngineError(`cannot load programs on ${target.label}: ${info.problems.join('; ')}`);
    const local = options.target.node === undefined;
    const mount = local ? localCgroup2Mount() : info.cgroup2;
    if (!mount) throw new UsageFailure(`${target.label} has no cgroup2 file system mounted`);
    const { objects, cgroups } = planObjects(project, mount);
    await sweepStale(project, target, targetValues, warn);

    const compiled: { plan: ObjectPlan; object: Buffer }[] = [];
    for (const plan of objects) {
      const text = readFileSync(plan.source, 'utf8');
      const report = await verifySource(text, plan.source, { agent: target.agent, sets: plan.sets });
      log(formatReport(report));
      if (!report.ok) throw new ProgramRejected(report.file);
      const result = await compileSource(text, plan.source);
      if (!result.object) throw new ProgramRejected(report.file);
      compiled.push({ plan, object: result.object });
    }

    const probe = await probeAll(project.policy);
    for (const [service, marks] of Object.entries(probe)) log(`probe: ${service}: ${Object.keys(marks).join(', ')} did not answer: marked down`);

    if (local) {
      for (const cgroup of cgroups) {
        const made = ensureCgroup(mount, cgroup);
        created.push(...made);
        log(made.length > 0 ? `created cgroup ${cgroup}` : `using cgroup ${cgroup}`);
      }
    }
    session = await SessionController.open(target.agent, { name: `run-${basename(project.dir)}`, leaseMs: options.leaseMs }, warn);
    let attached = 0;
    for (const { plan, object } of compiled) {
      const patches = settingsToPatches(plan.sets, readBpfObject(object).spec.globals);
      const base64 = object.toString('base64');
      for (const a of plan.attach) {
        const info = await session.attach({ object: base64, program: a.program, target: a.target, patches });
        attached++;
        log(`attached ${a.program} (prog id ${info.progId}) to ${a.label} as ${info.mechanism}${info.linkId !== undefined ? ` ${info.linkId}` : ''}`);
        for (const w of info.warnings) warn(`warning: ${w}`);
      }
    }

    const policyMaps = compiled.some((c) => isPolicyCompiler(c.plan.template.policy));
    const state: RunState = {
      version: 1,
      pid: process.pid,
      startedAt: new Date().toISOString(),
      target: targetValues,
      session: { id: session.handle.id, token: session.handle.token },
      createdCgroups: created,
      ...(cgroups[0] ? { execCgroup: cgroups[0] } : {}),
      policyPath: project.path,
      policyText: project.text,
      policyMaps,
      health: { manual: {}, probe },
    };
    if (policyMaps) {
      const write = await writePolicy(target.agent, session.handle.id, project.policy, effectiveHealth(state.health));
      const kinds = [...new Set(compiled.map((c) => c.plan.template.policy).filter(isPolicyCompiler))].join(', ');
      log(`policy (${kinds}): ${project.policy.services.length} services written to the maps (${write.updates} entries)`);
    } else if (project.policy.services.length > 0) {
      warn(`services: not written anywhere: no program of this project has policy maps (clusterset-socket-lb, xdp-maglev-gateway, tc-cluster-nat have)`);
    }
    writeRunState(project.dir, state);
    prober = new Prober(project.dir, target.agent, log);
    prober.start();
    log(`running: session ${session.handle.id} on ${target.label}, ${attached} programs attached; state in ${statePath(project.dir)}`);
    return { project, target, state, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
