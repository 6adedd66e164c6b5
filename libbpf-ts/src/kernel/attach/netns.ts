import { closeSync, openSync } from 'node:fs';
import { BpfError } from '../../errors';
import { kernelError, lastErrno, syscalls } from '../bpf-syscall';

const CLONE_NEWNET = 0x40000000;

/**
 * Runs fn with the calling thread inside the network namespace at `netnsPath` (e.g. /run/netns/NAME or
 * /proc/PID/ns/net), then moves it back. Interface indexes are per namespace, so an attach to an
 * interface of another namespace must happen in there. setns(2) moves only the calling thread: fn must be
 * synchronous (it is, for every attach call), and libuv's threads never leave their namespace.
 */
export function inNetns<T>(netnsPath: string | undefined, fn: () => T): T {
  if (netnsPath === undefined) return fn();
  const s = syscalls();
  const home = openSync('/proc/thread-self/ns/net', 'r');
  let target: number;
  try {
    target = openSync(netnsPath, 'r');
  } catch (err) {
    closeSync(home);
    throw new BpfError(`cannot open network namespace ${netnsPath}: ${(err as Error).message}`, 'pass an existing /run/netns/NAME or /proc/PID/ns/net path');
  }
  try {
    if (s.setns(target, CLONE_NEWNET) !== 0) throw kernelError(`entering network namespace ${netnsPath}`, lastErrno(), 'setns needs CAP_SYS_ADMIN');
    try {
      return fn();
    } finally {
      if (s.setns(home, CLONE_NEWNET) !== 0) {
        throw kernelError('returning to the original network namespace', lastErrno(), 'the process is in a foreign network namespace now: restart it');
      }
    }
  } finally {
    closeSync(target);
    closeSync(home);
  }
}
