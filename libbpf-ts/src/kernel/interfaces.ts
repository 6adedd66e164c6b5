import { BpfError } from '../errors';
import { native } from './native';

let ifNameToIndex: ((name: string) => number) | undefined;

/**
 * The index of a network interface in this process's network namespace (if_nametoindex: unlike
 * /sys/class/net, right inside a namespace entered with setns/nsenter).
 */
export function interfaceIndex(name: string): number {
  if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(name)) throw new BpfError(`'${name}' is not an interface name`);
  ifNameToIndex ??= native().koffi.load('libc.so.6').func('unsigned int if_nametoindex(const char *name)') as (name: string) => number;
  const index = ifNameToIndex(name);
  if (index === 0) throw new BpfError(`no network interface '${name}' here`, 'list them with `ip link`');
  return index;
}
