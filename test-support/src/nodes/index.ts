export { createTestNodes, sweepStaleNodeDirs, ENCRYPTED_KEY_PASSPHRASE } from './test-nodes';
export type { TestNode, TestNodes, TestNodesOptions } from './test-nodes';
export { generateKey, knownHostsName, readKeyPair, writeHashedKnownHosts } from './keys';
export type { KeyPair, KeyType } from './keys';
export { NODE_USER } from './accounts';
export { SSH_PORTS, waitForPort } from './sshd';
