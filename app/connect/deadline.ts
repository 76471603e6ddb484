/**
 * The one way the connection code bounds a wait: a promise raced against an AbortSignal. Every
 * deadline is a signal: the caller's cancel (`AbortController`), a timer (`AbortSignal.timeout`, or
 * a controller a timer aborts), or one a test aborts by hand.
 */

export interface DeadlineOptions<T> {
  /** What to reject with when `deadline` aborts first (a `ConnectError` with a stable code, a marker). */
  reason: () => unknown;
  /**
   * Receives what `work` produces after the deadline passed, which nobody else will ever see:
   * a socket that connected after all must be destroyed here.
   */
  discard?: (late: T) => void;
}

/**
 * Resolves or rejects as `work` does, unless `deadline` aborts first: then rejects at once with
 * `options.reason()`, and a late result of `work` goes to `options.discard`. A deadline already
 * passed rejects without waiting. Without a deadline, `work` itself is returned. The abort listener
 * is removed as soon as the race is decided, so a long-lived signal collects no listeners.
 */
export function beforeDeadline<T>(
  work: Promise<T>,
  deadline: AbortSignal | undefined,
  options: DeadlineOptions<T>,
): Promise<T> {
  if (!deadline) return work;
  const discardLate = () => {
    work.then(
      (late) => options.discard?.(late),
      () => undefined,
    );
  };
  if (deadline.aborted) {
    discardLate();
    return Promise.reject(options.reason());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      discardLate();
      reject(options.reason());
    };
    deadline.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        deadline.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        deadline.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
