/** Base of every error libbpf-ts throws from a kernel or I/O operation. `fix` says what to do about it. */
export class BpfError extends Error {
  constructor(message: string, readonly fix?: string, readonly errno?: number) {
    super(fix ? `${message} — ${fix}` : message);
    this.name = new.target.name;
  }
}

/** A feature, library or privilege this machine lacks. */
export class NotSupportedError extends BpfError {
  constructor(readonly feature: string, fix: string) {
    super(`not supported here: ${feature}`, fix);
  }
}

/** The kernel refused for lack of privileges (EPERM/EACCES outside the verifier). */
export class PermissionError extends BpfError {}

/** The verifier rejected a program: carries the (tail of the) log and whether it was cut. */
export class VerifierError extends BpfError {
  constructor(
    message: string,
    readonly log: string,
    readonly truncated: boolean,
    errno?: number,
  ) {
    super(message, undefined, errno);
  }
}
