import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QuiverError } from '../../../app/contract/quiverError.ts';

class ExampleError extends QuiverError<'example-failed'> {}

test('a QuiverError keeps its code, message, cause and subclass name', () => {
  const cause = new Error('underlying');
  const error = new ExampleError('example-failed', 'The example failed; try again.', { cause });
  assert.ok(error instanceof QuiverError && error instanceof Error);
  assert.equal(error.name, 'ExampleError');
  assert.equal(error.code, 'example-failed');
  assert.equal(error.message, 'The example failed; try again.');
  assert.equal(error.cause, cause);
});
