import type { AgentClient, AgentInfo } from '@ebpf-studio/remote-agent';
import type { CancellationToken } from 'vscode-jsonrpc';
import { verdictMatrix, type TargetOutcome } from '../engine/matrix';
import { verifySource } from '../engine/verify';
import type { EngineDiagnostic, VerifyReport } from '../engine/types';
import type { Verifier, VerifyRequest } from './document-verifier';
import type { StudioSettings } from './settings';
import { VerifyTargets, type PassphrasePrompt } from './verify-targets';

/**
 * The engine as the language server uses it: warm agents for the configured targets (this machine's,
 * nodes' over SSH), restarted if one dies mid-verify with one note saying so, and — with several
 * targets — every kernel's verdict side by side.
 */
export class EngineVerifier implements Verifier {
  /** The warm agents (this machine's, nodes' over SSH): the studio requests use the same connections. */
  readonly targets: VerifyTargets;
  private readonly infos = new WeakMap<AgentClient, Promise<AgentInfo>>();
  private warnedProblems = false;
  private targetIdentity = '';

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

  private async agentFor(name: string, path: string): Promise<AgentClient> {
    const s = this.settings();
    const agent = await this.targets.get(name, path, { inventory: s.inventory, sshConfig: s.sshConfig }).agent();
    let info = this.infos.get(agent);
    if (!info) {
      info = agent.info();
      this.infos.set(agent, info);
    }
    let facts: AgentInfo;
    try {
      facts = await info;
    } catch (err) {
      this.warnOnce(`eBPF Traffic Studio cannot verify on ${name}: ${(err as Error).message}`);
      throw err;
    }
    this.targetIdentity = `${facts.hostname}:${facts.kernelRelease}:${facts.libbpfVersion ?? ''}`;
    if (facts.problems.length > 0) this.warnOnce(`eBPF Traffic Studio cannot verify with the kernel of ${name}: ${facts.problems.join('; ')}`);
    return agent;
  }

  private warnOnce(message: string): void {
    if (this.warnedProblems) return;
    this.warnedProblems = true;
    this.warn(message);
  }

  private async verifyOn(name: string, request: VerifyRequest, token: CancellationToken, logLevel?: 2): Promise<VerifyReport> {
    const s = this.settings();
    const agent = await this.agentFor(name, request.path);
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

  /** One target, retried once on a fresh agent when the agent died under the verification; logLevel 2 keeps every program's full log. */
  async verifyRestarting(name: string, request: VerifyRequest, token: CancellationToken, logLevel?: 2): Promise<VerifyReport> {
    const s = this.settings();
    const before = await this.targets.get(name, request.path, { inventory: s.inventory, sshConfig: s.sshConfig }).agent();
    try {
      return await this.verifyOn(name, request, token, logLevel);
    } catch (err) {
      if (!before.isClosed || token.isCancellationRequested) throw err;
      this.log(`agent on ${name} lost during a verification (${(err as Error).message}); restarting it`);
      const report = await this.verifyOn(name, request, token, logLevel);
      report.diagnostics.push(note(request.path, `The verification agent stopped during this verification (${(err as Error).message}) and was restarted; this result comes from the new agent.`, 'EBPF-STUDIO-AGENT-RESTARTED'));
      return report;
    }
  }

  async run(request: VerifyRequest, token: CancellationToken): Promise<VerifyReport> {
    const names = this.settings().verifyTarget;
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

  /** Which helpers each program type may call on the (first) target's kernel, probed by its agent. */
  async helpers(progTypes: string[], helperIds: number[]): Promise<Record<string, number[]>> {
    const first = this.settings().verifyTarget[0] ?? 'local';
    const agent = await this.targets.get(first, process.cwd(), { inventory: this.settings().inventory, sshConfig: this.settings().sshConfig }).agent();
    return agent.helpers({ progTypes, helperIds });
  }

  dispose(): void {
    void this.targets.dispose();
  }
}

function note(file: string, message: string, code: string, severity: EngineDiagnostic['severity'] = 'information'): EngineDiagnostic {
  return { file, line: 1, column: 1, endLine: 1, endColumn: 1, severity, source: 'libbpf', code, message, kernelMessage: '', related: [] };
}
