export { buildVmImage } from './image';
export type { BuildVmImageOptions, VmImage } from './image';
export { startVm, sweepStaleVms } from './start-vm';
export type { StartVmOptions, VmNode, VmStopResult } from './start-vm';
export { vmCacheDir, CACHE_ENV } from './cache';
export { GUEST_PACKAGES, RECIPE_SCRIPT_VERSION } from './recipe';
export { shellQuote } from './ssh';
