import { rmSync } from 'node:fs';
import { ERRNO, closeFd, errnoOf, kernelError, syscalls } from '../bpf-syscall';
import { detachLinkFd, type AttachRecord } from './attachment';
import { detachSkMsgRecord } from './sk-msg';
import { detachTcFilter } from './tc-clsact';

/** Undoes an attachment from its journal record (also from another process); quiet when it is already gone. */
export function detachRecord(record: AttachRecord): void {
  switch (record.type) {
    case 'link':
      detachLinkById(record.linkId, record.pinPath);
      return;
    case 'tc':
      detachTcFilter(record);
      return;
    case 'sk_msg':
      detachSkMsgRecord(record);
      return;
  }
}

function detachLinkById(linkId: number, pinPath: string | undefined): void {
  if (pinPath) rmSync(pinPath, { force: true });
  const fd = syscalls().linkGetFdById(linkId);
  if (fd < 0) {
    const errno = errnoOf(fd);
    if (errno === ERRNO.ENOENT) return;
    throw kernelError(`opening link ${linkId}`, errno);
  }
  try {
    detachLinkFd(fd);
  } finally {
    closeFd(fd);
  }
}
