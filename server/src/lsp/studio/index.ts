import { StudioMethods, type AttachParams, type DetachParams, type ExplorerDataParams, type HealthParams, type MapsParams, type NodesParams, type PolicyParams, type ScaffoldParams, type TraceStartParams, type TraceStopParams, type VerifyNowParams, type VerifyOnParams } from '../studio-protocol';
import { agentOf, failingAsIs, type StudioContext } from './context';
import { nodes } from './nodes';
import { OwnedSessions } from './owned-sessions';
import { apply, health, status } from './policy';
import { attach, detach, maps } from './sessions';
import { scaffold, templates } from './templates';
import { Traces } from './traces';
import { explorerData, verifyNow, verifyOn } from './verify';
import { YamlDiagnostics } from './yaml-diagnostics';

export type { StudioContext } from './context';

/**
 * Serves the studio protocol (studio-protocol.ts) beyond the verifier log, and the diagnostics of open
 * ebpf-studio.yaml files. `dispose` stops the traces and closes the sessions this server opened.
 */
export function registerStudioRequests(ctx: StudioContext): { dispose(): Promise<void> } {
  const { connection, documents } = ctx;
  const owned = new OwnedSessions((node) => agentOf(ctx, node), (line) => connection.console.log(line));
  const traces = new Traces(ctx);
  const yaml = new YamlDiagnostics(ctx);

  connection.onRequest(StudioMethods.templates, () => templates());
  connection.onRequest(StudioMethods.scaffold, (p: ScaffoldParams) => failingAsIs(() => scaffold(p)));
  connection.onRequest(StudioMethods.verifyNow, (p: VerifyNowParams) => verifyNow(ctx, p));
  connection.onRequest(StudioMethods.verifyOn, (p: VerifyOnParams, token) => verifyOn(ctx, p, token));
  connection.onRequest(StudioMethods.explorerData, (p: ExplorerDataParams, token) => explorerData(ctx, p, token));
  connection.onRequest(StudioMethods.nodes, (p: NodesParams | undefined, token) => nodes(ctx, owned, p, token));
  connection.onRequest(StudioMethods.attach, (p: AttachParams, token) => attach(ctx, owned, p, token));
  connection.onRequest(StudioMethods.detach, (p: DetachParams) => detach(ctx, owned, p));
  connection.onRequest(StudioMethods.maps, (p: MapsParams) => maps(ctx, p));
  connection.onRequest(StudioMethods.traceStart, (p: TraceStartParams) => traces.start(p));
  connection.onRequest(StudioMethods.traceStop, (p: TraceStopParams) => traces.stop(p));
  connection.onRequest(StudioMethods.apply, (p: PolicyParams) => failingAsIs(() => apply(ctx, p)));
  connection.onRequest(StudioMethods.health, (p: HealthParams) => failingAsIs(() => health(ctx, p)));
  connection.onRequest(StudioMethods.status, (p: PolicyParams) => failingAsIs(() => status(ctx, p)));

  // didOpen also fires didChangeContent
  documents.onDidChangeContent((e) => yaml.schedule(e.document, ctx.settings().debounceMs));
  documents.onDidClose((e) => yaml.forget(e.document.uri));

  return {
    dispose: async () => {
      await traces.dispose();
      await owned.closeAll();
    },
  };
}
