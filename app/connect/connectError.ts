/**
 * A failure to reach or trust a server, worded for a person. `code` is stable; `attempts` keeps the
 * reason each candidate was refused (the brief: "the reason for each refused candidate is kept").
 */
import type { CertificateSummary, Verdict } from '../contract/viewModels.ts';
import type { Candidate } from './candidate.ts';
import type { ConnectErrorCode } from './retryPolicy.ts';
import { QuiverError } from '../contract/quiverError.ts';

export type { ConnectErrorCode } from './retryPolicy.ts';

export interface CandidateFailure {
  candidate: string;
  code: ConnectErrorCode;
  message: string;
}

/** A server nothing could prove, which the person may still accept or pin (Verdict.decision is set). */
export interface DecisionContext {
  domain: string;
  candidate: Candidate;
  verdict: Verdict;
  certificates: CertificateSummary[];
}

export class ConnectError extends QuiverError<ConnectErrorCode> {
  readonly attempts: CandidateFailure[];
  readonly decision: DecisionContext | null;
  constructor(
    code: ConnectErrorCode,
    message: string,
    attempts: CandidateFailure[] = [],
    decision: DecisionContext | null = null,
    /** What failed underneath (the stream machine's StreamError), for callers that word it themselves. */
    cause?: unknown,
  ) {
    super(code, message, cause === undefined ? undefined : { cause });
    this.attempts = attempts;
    this.decision = decision;
  }
}

/** The caller cancelled the attempt (its AbortSignal fired). */
export function abortError(): ConnectError {
  return new ConnectError('aborted', 'The connection attempt was cancelled.');
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError();
}
