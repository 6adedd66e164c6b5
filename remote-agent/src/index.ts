export * from './protocol';
export { AgentClient, AgentError } from './controller/agent-client';
export { startLocalAgent, AGENT_SCRIPT } from './controller/local-agent';
export type { LocalAgentOptions } from './controller/local-agent';
export * from './session-protocol';
export { SessionController } from './controller/session-controller';
export { AttachTargetError, resolveAttachTarget } from './controller/attach-target';
