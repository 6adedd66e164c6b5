export { buildVmImage } from './image';
export type { BuildVmImageOptions, VmImage } from './image';
export { startVm, sweepStaleVms } from './start-vm';
export type { StartVmOptions, VmNode, VmStopResult } from './start-vm';
export { vmCacheDir } from './cache';
export { GUEST_PACKAGES } from './recipe';
export { VM_ARCHES } from './arch';
export type { VmArch } from './arch';
