import { RequestType } from 'vscode-languageserver';

/** The client asks for a program's verifier log (or, without a program, the first rejected one's) to show it as a `bpf-verifier-log` document. */
export const VerifierLogRequest = new RequestType<{ uri: string; program?: string }, string, void>('ebpfStudio/verifierLog');
