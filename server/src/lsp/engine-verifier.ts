import { startLocalAgent, type AgentClient, type AgentInfo } from '@ebpf-studio/remote-agent';
import type { CancellationToken } from 'vscode-jsonrpc';
import { verifySource } from '../engine/verify';
import type { VerifyReport } from '../engine/types';
import type { Verifier, VerifyRequest } from './document-verifier';
import type { StudioSettings } from './settings';

/**
 * The engine as the language server uses it: a warm local agent (started on first use, restarted if it
 * dies, with one message saying so), and the current settings turned into verify options.
 */
export class EngineVerifier implements Verifier {
  private agent: AgentClient | undefined;
  private info: Promise<AgentInfo> | undefined;
  private warnedProblems = false;
  private targetIdentity = '';

  constructor(
    private readonly settings: () => StudioSettings,
    private readonly warn: (message: string) => void,
    private readonly log: (line: string) => void,
  ) {}

  private connect(): { agent: AgentClient; info: Promise<AgentInfo> } {
    if (!this.agent || this.agent.isClosed) {
      const agent = startLocalAgent({ log: (line) => this.log(`agent: ${line}`) });
      this.agent = agent;
      this.info = agent.info();
    }
    return { agent: this.agent, info: this.info! };
  }

  context(): string {
    const s = this.settings();
    return JSON.stringify([s.clangPath, s.cflags, s.includePaths, s.defines, s.caps, s.sets, s.vmlinux, s.verifyTarget, this.targetIdentity]);
  }

  private async attempt(request: VerifyRequest, token: CancellationToken): Promise<VerifyReport> {
    const s = this.settings();
    const { agent, info } = this.connect();
    let facts: AgentInfo;
    try {
      facts = await info;
    } catch (err) {
      if (!this.warnedProblems) {
        this.warnedProblems = true;
        this.warn(`eBPF Traffic Studio cannot verify with the kernel here: ${(err as Error).message}`);
      }
      throw err;
    }
    this.targetIdentity = `${facts.hostname}:${facts.kernelRelease}:${facts.libbpfVersion ?? ''}`;
    if (facts.problems.length > 0 && !this.warnedProblems) {
      this.warnedProblems = true;
      this.warn(`eBPF Traffic Studio cannot verify with the kernel here: ${facts.problems.join('; ')}`);
    }
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
      token,
    });
  }

  async run(request: VerifyRequest, token: CancellationToken): Promise<VerifyReport> {
    let report: VerifyReport;
    try {
      report = await this.attempt(request, token);
    } catch (err) {
      if (!this.agent?.isClosed || token.isCancellationRequested) throw err;
      this.log(`agent lost during a verification (${(err as Error).message}); restarting it`);
      report = await this.attempt(request, token);
      report.diagnostics.push({
        file: request.path, line: 1, column: 1, endLine: 1, endColumn: 1, severity: 'information', source: 'libbpf', code: 'EBPF-STUDIO-AGENT-RESTARTED',
        message: `The verification agent stopped during this verification (${(err as Error).message}) and was restarted; this result comes from the new agent.`, kernelMessage: '', related: [],
      });
    }
    return report;
  }

  /** Which helpers each program type may call on the target kernel (probed by the agent). */
  helpers(progTypes: string[], helperIds: number[]): Promise<Record<string, number[]>> {
    return this.connect().agent.helpers({ progTypes, helperIds });
  }

  dispose(): void {
    this.agent?.dispose();
  }
}
