import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionResumption, type PersistedSmState } from '../../../app/connect/sessionResumption.ts';
import type { SmState } from '../../../app/xmpp/streamMachine.ts';

const STATE: SmState = {
  id: 'sm-1',
  jid: 'alice@example.org/quiver-1',
  inboundH: 3,
  outboundH: 2,
  unacked: [{ id: 'm-3', xml: '<message id="m-3"/>' }],
  location: null,
  max: 60,
};

function stored(savedAt: number, max: number | null = 60): PersistedSmState {
  return { id: 'sm-0', jid: 'alice@example.org/quiver-1', inboundH: 1, outboundH: 1, location: null, max, savedAt };
}

test('a dropped stream is resumed while the server max has not passed; a stopped one never', () => {
  const saved: (PersistedSmState | null)[] = [];
  const r = new SessionResumption({ smStateChanged: (s) => void saved.push(s) });
  r.dropped(STATE, true, 1000);
  assert.equal(r.pending, true);
  assert.deepEqual(r.next(1000 + 59_999), { state: STATE, stored: false });
  assert.equal(r.next(1000 + 60_000), null);
  assert.equal(saved.at(-1)?.id, 'sm-1');
  r.forget();
  assert.equal(r.next(2000), null);
  r.dropped(STATE, false, 3000);
  assert.equal(r.pending, false, 'a stream of a stopped session is not resumed');
  r.dropped({ ...STATE, id: null }, true, 3000);
  assert.equal(r.next(3000), null);
  assert.equal(saved.at(-1), null, 'nothing resumable: the stored state is cleared');
});

test('the first attempt of a process resumes what the previous one stored, marked restored, until it is answered', () => {
  const r = new SessionResumption({ storedSmState: () => stored(10_000) });
  const next = r.next(20_000);
  assert.ok(next?.stored);
  assert.deepEqual(next.state, {
    id: 'sm-0',
    jid: 'alice@example.org/quiver-1',
    inboundH: 1,
    outboundH: 1,
    unacked: [],
    location: null,
    max: 60,
    restored: true,
  });
  // A failed attempt (no answer) keeps it for the next one, within the server's time.
  assert.ok(r.next(30_000)?.stored);
  assert.equal(r.next(70_000), null);
  r.reached();
  assert.equal(r.next(30_000), null);
});

test('a stored state past its time is cleared and not tried; without max, five minutes', () => {
  const saved: (PersistedSmState | null)[] = [];
  const old = new SessionResumption({ storedSmState: () => stored(0), smStateChanged: (s) => void saved.push(s) });
  assert.equal(old.next(61_000), null);
  assert.deepEqual(saved, [null]);
  const noMax = new SessionResumption({ storedSmState: () => stored(0, null) });
  assert.ok(noMax.next(299_000)?.stored);
  assert.equal(new SessionResumption({ storedSmState: () => stored(0, null) }).next(300_000), null);
});
