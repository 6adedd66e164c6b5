/** The engine could not run (a tool is missing, no privileges, the agent failed): exit code 2 territory. */
export class EngineError extends Error {
  constructor(message: string, readonly fix?: string) {
    super(fix ? `${message} — ${fix}` : message);
    this.name = 'EngineError';
  }
}
