import { closeFd, errnoOf, kernelError } from './bpf-syscall';
import { linkIdOf } from './attach/attachment';
import { native } from './native';

let objGet: ((path: string) => number) | undefined;

/** The id of the bpf_link pinned at `path` (undefined when the pin is not a link). */
export function pinnedLinkId(path: string): number | undefined {
  objGet ??= native().koffi.load('libbpf.so.1').func('int bpf_obj_get(const char *pathname)') as (path: string) => number;
  const fd = objGet(path);
  if (fd < 0) throw kernelError(`opening the pin ${path}`, errnoOf(fd));
  try {
    return linkIdOf(fd);
  } finally {
    closeFd(fd);
  }
}
