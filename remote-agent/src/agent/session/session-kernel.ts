import type { AttachParams, AttachmentInfo, EventBatch, EventsSubscribeParams, MapDumpParams, MapDumpResult, MapUpdateParams, SessionMapInfo, StatsResult } from '../../session-protocol';
import type { Journal } from './journal';

/** What a session does to the kernel; implemented with libbpf-ts (kernel-session.ts). */
export interface SessionKernel {
  attach(params: AttachParams, journal: Journal, pinDir: string | undefined): AttachmentInfo;
  /** Detach one attachment (undoing its journal entry); returns false when there is no such attachment. */
  detach(attachment: string, journal: Journal): boolean;
  attachments(): AttachmentInfo[];
  maps(): SessionMapInfo[];
  dump(params: MapDumpParams): MapDumpResult;
  update(params: MapUpdateParams): void;
  remove(params: MapUpdateParams): void;
  stats(enable: boolean): StatsResult;
  subscribe(params: EventsSubscribeParams, deliver: (batch: EventBatch) => void): string;
  unsubscribe(subscription: string): void;
  /** Detach everything not pinned, free every object, stop every stream. */
  releaseAll(journal: Journal): void;
}
