/**
 * What one account remembers between its streams so the next one can resume the session
 * (XEP-0198 §5): the stream that dropped in this process, or the one a previous (killed) process
 * stored, and until when the server may still keep it. It also writes what a later process would
 * need (`smStateChanged`) after every change that matters.
 *
 * Obligations of the owner (`AccountSession`): ask `next()` before each attempt and pass what it
 * returns as `streamManagement.previous`; call `reached()` once an attempt got the server's answer
 * (resumed or not), `dropped()` when a stream ends, `forget()` when the session is stopped, and
 * `save()` when stream management was enabled, acknowledged or resumed.
 */
import type { SmState } from '../xmpp/streamMachine.ts';

/** What a later process needs to resume a stream (XEP-0198 §5), as `smStateChanged` stores it. */
export interface PersistedSmState {
  id: string;
  jid: string;
  inboundH: number;
  outboundH: number;
  location: string | null;
  max: number | null;
  /** When it was saved, ms since the epoch. */
  savedAt: number;
}

export interface ResumptionStore {
  /**
   * The state a later process needs to resume this account's stream after a crash, on every
   * change that matters; null when nothing is left to resume. Saved, it must survive a `kill -9`.
   */
  smStateChanged?(state: PersistedSmState | null): void;
  /** The state the previous process left (`smStateChanged`), read once at the first attempt. */
  storedSmState?(): PersistedSmState | null;
}

/**
 * Servers keep a dropped session a few minutes (Prosody: 10); without their `max`, a state older
 * than this is not worth a resumption attempt.
 */
const DEFAULT_RESUME_MS = 5 * 60 * 1000;

export class SessionResumption {
  readonly #store: ResumptionStore;
  /** The dropped stream of this process, and until when the server may keep it; null when none. */
  #former: { state: SmState; until: number } | null = null;
  /** The state a previous process stored was read (the first attempt of a process looks). */
  #storedLooked = false;
  /** That state, kept for the attempts of this process until one of them reaches the server. */
  #stored: { state: SmState; until: number } | null = null;

  constructor(store: ResumptionStore) {
    this.#store = store;
  }

  /** Whether a dropped session may still be resumed (the contacts' presence is then kept). */
  get pending(): boolean {
    return this.#former !== null;
  }

  /**
   * The stream the next attempt resumes, null for none; `stored`: a previous process's (its
   * unacknowledged stanzas are the caller's to send again: `SmState.restored`).
   */
  next(now: number): { state: SmState; stored: boolean } | null {
    if (this.#former !== null) return now < this.#former.until ? { state: this.#former.state, stored: false } : null;
    if (!this.#storedLooked) {
      this.#storedLooked = true;
      const stored = this.#store.storedSmState?.() ?? null;
      if (stored !== null) {
        const until = stored.savedAt + (stored.max === null ? DEFAULT_RESUME_MS : stored.max * 1000);
        const { id, jid, inboundH, outboundH, location, max } = stored;
        if (now < until)
          this.#stored = { state: { id, jid, inboundH, outboundH, unacked: [], location, max, restored: true }, until };
        else this.#store.smStateChanged?.(null);
      }
    }
    return this.#stored !== null && now < this.#stored.until ? { state: this.#stored.state, stored: true } : null;
  }

  /** An attempt got the server's answer: resumed, the session lives on in it; refused, it is gone. */
  reached(): void {
    this.#former = null;
    this.#stored = null;
  }

  /**
   * A stream ended with `state` (its `streamManagementState()`): one that dropped with an SM-ID can be
   * resumed by the next attempt while the server's `max` has not passed; one closed in order cannot.
   */
  dropped(state: SmState | null, resumable: boolean, now: number): void {
    this.#former =
      resumable && state?.id
        ? { state, until: state.max === null ? Number.POSITIVE_INFINITY : now + state.max * 1000 }
        : null;
    this.save(state, now);
  }

  /** The session was stopped: nothing is left to resume. */
  forget(): void {
    this.#former = null;
  }

  /** Stores what a later process would need to resume the stream in `state` (nothing when it has no SM-ID). */
  save(state: SmState | null, now: number): void {
    const save = this.#store.smStateChanged;
    if (!save) return;
    if (state?.id) {
      const { id, jid, inboundH, outboundH, location, max } = state;
      save({ id, jid, inboundH, outboundH, location, max, savedAt: now });
    } else save(null);
  }
}
