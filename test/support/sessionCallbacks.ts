/**
 * `SessionCallbacks` for tests that drive an `AccountSession`: every callback does nothing (the
 * outbox is empty) unless the test passes its own.
 */
import type { SessionCallbacks } from '../../app/connect/accountSession.ts';

export function sessionCallbacks(over: Partial<SessionCallbacks> = {}): SessionCallbacks {
  return {
    status: () => undefined,
    roster: () => undefined,
    rosterPush: () => undefined,
    presence: () => undefined,
    message: () => ({ outcome: 'stored', at: null }),
    outbox: () => [],
    sent: () => undefined,
    saveRecord: () => undefined,
    decisionNeeded: () => undefined,
    log: () => undefined,
    ...over,
  };
}
