/**
 * beforeDeadline on AbortSignal semantics: the deadlines are aborted by hand, nothing sleeps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { beforeDeadline } from '../../../app/connect/deadline.ts';

const LATE = new Error('late');

/** A promise the test settles by hand. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

test('without a deadline the work itself is returned', async () => {
  const work = Promise.resolve(1);
  assert.equal(beforeDeadline(work, undefined, { reason: () => LATE }), work);
});

test('work that finishes first wins, and the listener is removed', async () => {
  const deadline = new AbortController();
  const work = deferred<string>();
  const raced = beforeDeadline(work.promise, deadline.signal, { reason: () => LATE });
  assert.equal(getEventListeners(deadline.signal, 'abort').length, 1);
  work.resolve('done');
  assert.equal(await raced, 'done');
  assert.equal(getEventListeners(deadline.signal, 'abort').length, 0);
  deadline.abort();
});

test("the work's own failure passes through unchanged", async () => {
  const deadline = new AbortController();
  const failure = new Error('connection refused');
  await assert.rejects(beforeDeadline(Promise.reject(failure), deadline.signal, { reason: () => LATE }), failure);
  assert.equal(getEventListeners(deadline.signal, 'abort').length, 0);
});

test('an abort rejects at once with the reason; a late result goes to discard', async () => {
  const deadline = new AbortController();
  const work = deferred<{ socket: string }>();
  const discarded: string[] = [];
  const raced = beforeDeadline(work.promise, deadline.signal, {
    reason: () => LATE,
    discard: (late) => discarded.push(late.socket),
  });
  deadline.abort();
  await assert.rejects(raced, LATE);
  assert.deepEqual(discarded, [], 'nothing to discard yet');
  work.resolve({ socket: 'late socket' });
  await work.promise;
  await Promise.resolve();
  assert.deepEqual(discarded, ['late socket'], 'discarded exactly once');
});

test('a deadline already passed rejects without waiting; a late failure is swallowed', async () => {
  const deadline = new AbortController();
  deadline.abort();
  const work = deferred<number>();
  const discarded: number[] = [];
  await assert.rejects(
    beforeDeadline(work.promise, deadline.signal, { reason: () => LATE, discard: (n) => discarded.push(n) }),
    LATE,
  );
  assert.equal(getEventListeners(deadline.signal, 'abort').length, 0);
  work.reject(new Error('failed after the deadline'));
  await work.promise.catch(() => undefined);
  assert.deepEqual(discarded, []);
});

test('the reason is computed when the deadline passes (a fresh error each time)', async () => {
  const deadline = new AbortController();
  let made = 0;
  const reason = () => new Error(`reason ${++made}`);
  const first = beforeDeadline(new Promise(() => undefined), deadline.signal, { reason });
  const second = beforeDeadline(new Promise(() => undefined), deadline.signal, { reason });
  assert.equal(made, 0);
  deadline.abort();
  await assert.rejects(first, /reason 1/);
  await assert.rejects(second, /reason 2/);
});
