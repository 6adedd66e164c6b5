export { explorerFromLog, explorerFromReport } from './build';
export { parseState } from './register-state';
export type * from './types';
