/**
 * A failure to reach or trust a server, worded for a person. `code` is stable; `attempts` keeps the
 * reason each candidate was refused (the brief: "the reason for each refused candidate is kept").
 */
export interface CandidateFailure {
  candidate: string;
  code: string;
  message: string;
}

export class ConnectError extends Error {
  readonly code: string;
  readonly attempts: CandidateFailure[];
  constructor(code: string, message: string, attempts: CandidateFailure[] = []) {
    super(message);
    this.name = 'ConnectError';
    this.code = code;
    this.attempts = attempts;
  }
}
