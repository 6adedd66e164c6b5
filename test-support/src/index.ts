export { requireKernel, kernelAvailable } from './require-kernel';
export { tempDir, compileBpf, runCommand } from './toolchain';
