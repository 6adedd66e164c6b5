import type { InsnRecord, ParsedLog } from '@ebpf-studio/libbpf-ts';
import { lastCallBefore } from './failing-path';

/**
 * Helpers that can move or reallocate the packet: after a call to one, the verifier turns every packet
 * pointer taken before it into a plain number (kernel: bpf_helper_changes_pkt_data).
 */
const PACKET_CHANGING = /^bpf_(?:xdp_adjust_(?:head|tail|meta)|skb_(?:pull_data|change_head|change_tail|change_proto|adjust_room|vlan_push|vlan_pop|store_bytes)|l[34]_csum_replace|clone_redirect|lwt_push_encap|lwt_seg6_\w+|msg_(?:pull|push|pop)_data)$/;

/**
 * For a number dereferenced as a pointer (`invalid mem access 'scalar'`): the last call before the failing
 * instruction, on its path, to a helper that invalidates packet pointers, with the helper's name. A packet
 * pointer kept across such a call is the usual cause in gateways that encapsulate or decapsulate.
 */
export function packetChangingCall(log: ParsedLog | undefined): { record: InsnRecord; helper: string } | undefined {
  if (!log?.failingInsn || !/invalid mem access '(?:scalar|inv)'/.test(log.error ?? '')) return undefined;
  return lastCallBefore(log.tail, PACKET_CHANGING);
}

/** Why and how to fix a packet pointer used after `helper` invalidated it. */
export function stalePacketPointerAdvice(helper: string): { explanation: string; fix: string } {
  return {
    explanation: `${helper}() can move or reallocate the packet, so the verifier turns every packet pointer taken before the call into a plain number; the program used such a pointer after the call.`,
    fix: `After ${helper}(), load data and data_end from the context again, re-derive the header pointers from them and check them against data_end before any access, e.g. \`data = (void *)(long)ctx->data; data_end = (void *)(long)ctx->data_end; eth = data; if ((void *)(eth + 1) > data_end) return ...;\`.`,
  };
}
