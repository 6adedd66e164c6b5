export { requireKernel, kernelAvailable } from './require-kernel';
export { tempDir, compileBpf, runCommand } from './toolchain';
export { createNetns, createNetnsPair, pickFreeSubnet, sweepStaleNetns } from './netns';
export type { ExecOptions, NetnsPair, NetnsPairOptions, TestNetns, VethEnd } from './netns';
export { CGROUP_ROOT, createCgroup, sweepStaleCgroups } from './cgroup';
export type { TestCgroup } from './cgroup';
export { createTestNodes, ENCRYPTED_KEY_PASSPHRASE, generateKey, knownHostsName, NODE_USER, readKeyPair, SSH_PORTS, sweepStaleNodeDirs, waitForPort, writeHashedKnownHosts } from './nodes';
export type { KeyPair, KeyType, TestNode, TestNodes, TestNodesOptions } from './nodes';
