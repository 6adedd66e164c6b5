export { startSession, logLineTime, ARTIFACTS_DIR } from './session';
export type { Session, SessionOptions, SessionTimings } from './session';
export { Workbench } from './workbench';
export type { Problem } from './workbench';
export { builtVsix, REPO_ROOT } from './vsix';
export { WorkbenchUi } from './ui';
export type { QuickItem } from './ui';
export { poll } from './poll';
