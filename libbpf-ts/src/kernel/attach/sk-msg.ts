import { ERRNO, closeFd, describeErrno, errnoOf, kernelError, syscalls } from '../bpf-syscall';
import { ATTACH_TYPE } from './attach-types';
import { linkAttachment, linkCreate, type Attachment, type AttachRecord, type ProgramRef } from './attachment';
import { mapInfo } from '../maps';
import { programInfo } from '../prog-stats';

type SkMsgRecord = Extract<AttachRecord, { type: 'sk_msg' }>;

/**
 * Attaches an sk_msg program to a sockmap/sockhash: a bpf_link (BPF_SK_MSG_VERDICT with the map fd as
 * target, Linux ≥ 6.10; libbpf 1.1 has no API for it) where the kernel has sockmap links, else
 * bpf_prog_attach — then `note` says so, and the program stays on the map until detach() or until the
 * map is freed.
 */
export function attachSkMsg(prog: ProgramRef, sockmapFd: number): Attachment {
  const map = mapInfo(sockmapFd);
  const target = `${map.typeName} map '${map.name}' (id ${map.id})`;
  const fd = linkCreate(prog, sockmapFd, ATTACH_TYPE.skMsgVerdict);
  if (fd >= 0) return linkAttachment('sk_msg', target, fd);
  const linkErrno = errnoOf(fd);
  if (linkErrno !== ERRNO.EINVAL && linkErrno !== ERRNO.EOPNOTSUPP) {
    throw kernelError(`attaching sk_msg program '${prog.name}' to ${target}`, linkErrno, linkErrno === ERRNO.EBADF ? 'pass the fd of a sockmap or sockhash map' : undefined);
  }
  const rc = syscalls().progAttach(prog.fd, sockmapFd, ATTACH_TYPE.skMsgVerdict, 0);
  if (rc !== 0) throw kernelError(`attaching sk_msg program '${prog.name}' to ${target} with bpf_prog_attach`, errnoOf(rc));
  const record: SkMsgRecord = { type: 'sk_msg', progId: programInfo(prog.fd).id, mapId: map.id, attachType: ATTACH_TYPE.skMsgVerdict };
  let attached = true;
  return {
    kind: 'sk_msg',
    target,
    record,
    note: `this kernel refused an sk_msg bpf_link (${describeErrno(linkErrno)}): attached with bpf_prog_attach, which stays until detached or the map is freed`,
    detach() {
      if (attached) detachSkMsgRecord(record);
      attached = false;
    },
  };
}

/** Detaches a bpf_prog_attach'ed sk_msg program by ids (fds by id, so the loader may be gone). */
export function detachSkMsgRecord(record: SkMsgRecord): void {
  const s = syscalls();
  const progFd = s.progGetFdById(record.progId);
  const mapFd = s.mapGetFdById(record.mapId);
  try {
    if (progFd < 0 || mapFd < 0) return;
    const rc = s.progDetach2(progFd, mapFd, record.attachType);
    const errno = rc === 0 ? 0 : errnoOf(rc);
    if (errno !== 0 && errno !== ERRNO.ENOENT) throw kernelError(`detaching sk_msg program ${record.progId} from map ${record.mapId}`, errno);
  } finally {
    if (progFd >= 0) closeFd(progFd);
    if (mapFd >= 0) closeFd(mapFd);
  }
}
