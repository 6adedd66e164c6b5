/** Bumped with any change to the agent's behaviour; a controller re-uploads an agent whose version differs. */
export const AGENT_VERSION = '0.1.0';
