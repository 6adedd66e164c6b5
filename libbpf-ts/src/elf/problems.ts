/** Something wrong or doubtful found while reading an object; the message names the fix. */
export interface ReadProblem {
  severity: 'error' | 'warning';
  message: string;
}

export function readError(message: string): ReadProblem {
  return { severity: 'error', message };
}

export function readWarning(message: string): ReadProblem {
  return { severity: 'warning', message };
}
