import { native } from './native';

/** Loads libbpf.so.1 (throws NotSupportedError naming the package when missing) and returns its version. */
export function libbpfVersion(): string {
  return native().libbpfVersion;
}
