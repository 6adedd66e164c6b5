import type { AgentClient, AgentInfo } from '@ebpf-studio/remote-agent';
import type { CancellationToken } from 'vscode-jsonrpc';
import { verdictMatrix, type TargetOutcome } from '../engine/matrix';
import { verifySource } from '../engine/verify';
import type { EngineDiagnostic, VerifyReport } from '../engine/types';
import type { Verifier, VerifyRequest } from './document-verifier';
import type { KnowledgeTarget } from './knowledge-service';
import type { StudioSettings } from './settings';
import { VerifyFallback } from './studio-protocol';
import { defaultTarget, localProblem, VerifyTargets, type DefaultTarget, type PassphrasePrompt, type TargetProgress, type TargetWait, type VerifyTarget } from './verify-targets';

/** What a verification on a target is doing: reaching its agent, then verifying. */
export type VerifyProgress = TargetProgress | { readonly step: 'verify' };

/** How a caller waits for a verification: its signal abandons reaching the agent (the verification itself follows the CancellationToken). */
export interface VerifyWait {
  signal?: AbortSignal;
  onProgress?: (progress: VerifyProgress) => void;
}

/**
 * The engine as the language server uses it: warm agents for the configured targets (this machine's,
 * nodes' over SSH), restarted if one dies mid-verify with one note saying so, and — with several
 * targets — every kernel's verdict side by side. With the default target ('local') on a machine whose
 * kernel cannot verify (not root, no libbpf, no BTF), the first node of the ebpf-studio.yaml found
 * verifies instead, and a note on the file says so (studio-protocol's VerifyFallback).
 */
export class EngineVerifier implements Verifier {
  /** The warm agents (this machine's, nodes' over SSH): the studio requests use the same connections. */
  readonly targets: VerifyTargets;
  private readonly infos = new WeakMap<AgentClient, Promise<AgentInfo>>();
  private warnedProblems = false;
  private targetIdentity = '';
  /** Why this machine's kernel cannot verify (undefined: it can); asked once — privileges and libraries do not change under a running server. */
  private localVerdict: Promise<string | undefined> | undefined;
  /** The node the last default-target verification fell back to. */
  private fallbackNode: string | undefined;

  constructor(
    private readonly settings: () => StudioSettings,
    private readonly warn: (message: string) => void,
    private readonly log: (line: string) => void,
    passphrase?: PassphrasePrompt,
  ) {
    this.targets = new VerifyTargets(log, passphrase);
  }

  context(): string {
    const s = this.settings();
    return JSON.stringify([s.clangPath, s.cflags, s.includePaths, s.defines, s.caps, s.sets, s.vmlinux, s.verifyTarget, s.inventory, s.sshConfig, this.targetIdentity]);
  }

  private async agentFor(name: string, path: string, wait: TargetWait): Promise<AgentClient> {
    const s = this.settings();
    const agent = await this.targets.get(name, path, { inventory: s.inventory, sshConfig: s.sshConfig }).agent(wait);
    let facts: AgentInfo;
    try {
      facts = await this.infoOf(agent);
    } catch (err) {
      this.warnOnce(`eBPF Traffic Studio cannot verify on ${name}: ${(err as Error).message}`);
      throw err;
    }
    this.targetIdentity = `${facts.hostname}:${facts.kernelRelease}:${facts.libbpfVersion ?? ''}`;
    if (facts.problems.length > 0) this.warnOnce(`eBPF Traffic Studio cannot verify with the kernel of ${name}: ${facts.problems.join('; ')}`);
    return agent;
  }

  private infoOf(agent: AgentClient): Promise<AgentInfo> {
    let info = this.infos.get(agent);
    if (!info) {
      info = agent.info();
      this.infos.set(agent, info);
    }
    return info;
  }

  private localProblem(path: string): Promise<string | undefined> {
    this.localVerdict ??= (async () => {
      const s = this.settings();
      try {
        return localProblem(await this.infoOf(await this.targets.get('local', path, { inventory: s.inventory, sshConfig: s.sshConfig }).agent()));
      } catch (err) {
        return localProblem(err as Error);
      }
    })();
    return this.localVerdict;
  }

  /** Where a document verifies while `ebpfStudio.verifyTarget` is left at its default. */
  async defaultTarget(path: string): Promise<DefaultTarget> {
    return defaultTarget(await this.localProblem(path), path, this.settings().inventory);
  }

  private async runDefault(request: VerifyRequest, token: CancellationToken): Promise<VerifyReport> {
    const target = await this.defaultTarget(request.path);
    this.fallbackNode = target.kind === 'fallback' ? target.node : undefined;
    if (target.kind === 'local') return this.verifyRestarting('local', request, token);
    if (target.kind === 'none') {
      const instead = `there is no node to verify on instead (${target.inventory ? `${target.inventory} names none` : 'no ebpf-studio.yaml found'}): run the editor's server as root or grant it CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON, or set ebpfStudio.verifyTarget to a node (name, ssh alias or user@host)`;
      let report: VerifyReport;
      try {
        report = await this.verifyRestarting('local', request, token);
      } catch (err) {
        if (token.isCancellationRequested) throw err;
        throw new Error(`No kernel to verify with: this machine's kernel cannot verify (${target.reason}) and ${instead}`);
      }
      report.diagnostics.push(note(request.path, `No kernel to verify with fully: this machine's kernel has problems (${target.reason}) and ${instead}`, VerifyFallback.code, 'warning'));
      return report;
    }
    let report: VerifyReport;
    try {
      report = await this.verifyRestarting(target.node, request, token);
    } catch (err) {
      if (token.isCancellationRequested) throw err;
      throw new Error(`this machine's kernel cannot verify (${target.reason}), and ${target.node}, the first node of ${target.inventory}, could not either: ${(err as Error).message}`);
    }
    report.diagnostics.push(
      note(
        request.path,
        `Verified on ${target.node} (no local kernel): this machine's kernel cannot verify — ${target.reason}. ${target.node} is the first node of ${target.inventory}; set ebpfStudio.verifyTarget to verify elsewhere (a node name, ssh alias or user@host, or a list of them).`,
        VerifyFallback.code,
      ),
    );
    return report;
  }

  private warnOnce(message: string): void {
    if (this.warnedProblems) return;
    this.warnedProblems = true;
    this.warn(message);
  }

  private async verifyOn(name: string, request: VerifyRequest, token: CancellationToken, options: VerifyOptions): Promise<VerifyReport> {
    const s = this.settings();
    const { logLevel, wait = {} } = options;
    const agent = await this.agentFor(name, request.path, wait);
    wait.onProgress?.({ step: 'verify' });
    return verifySource(request.text, request.path, {
      agent,
      clang: s.clangPath,
      flags: s.cflags,
      includePaths: s.includePaths,
      defines: s.defines,
      timeoutMs: s.clangTimeoutMs,
      sets: s.sets,
      vmlinux: s.vmlinux,
      ...(s.caps ? { caps: s.caps } : {}),
      ...(logLevel ? { logLevel } : {}),
      token,
    });
  }

  /**
   * One target, retried once on a fresh agent when the agent died under the verification. The document
   * verifier's runs pass no signal: a newer edit cancels a stale run's verification, never the bootstrap
   * the next run needs too.
   */
  async verifyRestarting(name: string, request: VerifyRequest, token: CancellationToken, options: VerifyOptions = {}): Promise<VerifyReport> {
    const s = this.settings();
    const before = await this.targets.get(name, request.path, { inventory: s.inventory, sshConfig: s.sshConfig }).agent(options.wait);
    try {
      return await this.verifyOn(name, request, token, options);
    } catch (err) {
      if (!before.isClosed || token.isCancellationRequested) throw err;
      this.log(`agent on ${name} lost during a verification (${(err as Error).message}); restarting it`);
      const report = await this.verifyOn(name, request, token, options);
      report.diagnostics.push(note(request.path, `The verification agent stopped during this verification (${(err as Error).message}) and was restarted; this result comes from the new agent.`, 'EBPF-STUDIO-AGENT-RESTARTED'));
      return report;
    }
  }

  async run(request: VerifyRequest, token: CancellationToken): Promise<VerifyReport> {
    const names = this.settings().verifyTarget;
    if (names.length === 1 && names[0] === 'local') return this.runDefault(request, token);
    if (names.length === 1) return this.verifyRestarting(names[0]!, request, token);
    const outcomes = await Promise.all(
      names.map(async (node): Promise<TargetOutcome> => {
        try {
          const report = await this.verifyRestarting(node, request, token);
          return { node, kernel: report.kernel ?? 'unknown', report };
        } catch (err) {
          return { node, error: (err as Error).message };
        }
      }),
    );
    const matrix = verdictMatrix(outcomes);
    const base = outcomes.find((o): o is Extract<TargetOutcome, { report: VerifyReport }> => 'report' in o)?.report;
    if (!base) throw new Error(outcomes.map((o) => ('error' in o ? `${o.node}: ${o.error}` : '')).join('; '));
    const unreachable = matrix.unreachable.map((u) => note(request.path, `Not verified on ${u.node}: ${u.error}`, 'EBPF-STUDIO-TARGET-UNREACHABLE', 'warning'));
    return { ...base, diagnostics: [...matrix.diagnostics, ...unreachable], matrix };
  }

  /**
   * The one place that decides whose kernel the editor's facts (helper availability, kfuncs) describe:
   * the verify target, the first of several, or the node the default target last fell back to. The
   * key names it with the settings that locate it, so a settings change or a new fallback node makes
   * another target. This machine's kfuncs come from its BTF read here; a node's from its agent.
   */
  knowledgeTarget(): KnowledgeTarget {
    const s = this.settings();
    const name = (s.verifyTarget.length === 1 && s.verifyTarget[0] === 'local' ? this.fallbackNode : undefined) ?? s.verifyTarget[0] ?? 'local';
    const options = { inventory: s.inventory, sshConfig: s.sshConfig };
    const target = (): VerifyTarget => this.targets.get(name, process.cwd(), options);
    return {
      key: name === 'local' ? name : JSON.stringify([name, options.inventory, options.sshConfig]),
      helpers: async (progTypes, helperIds) => (await target().agent()).helpers({ progTypes, helperIds }),
      kfuncs: async () => {
        try {
          return await target().kfuncs();
        } catch (err) {
          this.log(`the kfuncs of ${name} are unknown, this machine's stand in: ${(err as Error).message}`);
          throw err;
        }
      },
    };
  }

  dispose(): void {
    void this.targets.dispose();
  }
}

export interface VerifyOptions {
  /** 2 keeps every program's full log. */
  logLevel?: 2;
  wait?: VerifyWait;
}

function note(file: string, message: string, code: string, severity: EngineDiagnostic['severity'] = 'information'): EngineDiagnostic {
  return { file, line: 1, column: 1, endLine: 1, endColumn: 1, severity, source: 'ebpf-studio', code, message, kernelMessage: '', related: [] };
}
