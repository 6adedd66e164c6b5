import { EngineError } from './engine-error';

/** The user asked for something that cannot be (an unknown --set variable, a bad flag): exit code 2. */
export class UsageError extends EngineError {}
