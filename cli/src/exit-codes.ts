export const EXIT = { ok: 0, rejected: 1, couldNotRun: 2 } as const;

/** A mistake in the command line: printed with the usage hint, exit 2. */
export class UsageFailure extends Error {}
