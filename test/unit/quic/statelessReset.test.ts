/**
 * Recognising a Stateless Reset (RFC 9000 §10.3.1) in ConnectionIds (app/quic/connectionIds.ts):
 * only the tokens of the peer's connection IDs this endpoint is using count, and sending one
 * (retryToken.ts) follows the size rules of §10.3 and §10.3.3.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionIds, type CidEvent } from '../../../app/quic/connectionIds.ts';
import { buildStatelessReset } from '../../../app/quic/retryToken.ts';

const LOCAL = Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 1);
const REMOTE = Uint8Array.of(2, 2, 2, 2, 2, 2, 2, 2);
const SPARE = Uint8Array.of(3, 3, 3, 3, 3, 3, 3, 3);
const TOKEN_0 = new Uint8Array(16).fill(0xa0);
const TOKEN_1 = new Uint8Array(16).fill(0xa1);

function ids(): ConnectionIds {
  const events: CidEvent[] = [];
  const c = new ConnectionIds({
    localCid: LOCAL,
    remoteCid: REMOTE,
    cidLength: 8,
    resetTokenFor: () => new Uint8Array(16),
    localLimit: 4,
    events,
  });
  c.setInitialRemoteResetToken(TOKEN_0);
  // NEW_CONNECTION_ID frame type 0x18.
  c.handleFrame({ type: 'new_connection_id', seq: 1, retirePriorTo: 0, cid: SPARE, resetToken: TOKEN_1 }, 0x18);
  return c;
}

describe('Stateless Reset tokens (RFC 9000 §10.3.1)', () => {
  it('honours the token of the connection ID in use', () => {
    assert.equal(ids().isStatelessReset(TOKEN_0), true);
  });

  it('ignores the token of a connection ID the peer issued but we never used', () => {
    assert.equal(ids().isStatelessReset(TOKEN_1), false);
  });

  it('after moving to the spare ID, honours its token and no longer the retired one', () => {
    const c = ids();
    assert.equal(c.switchToSpare(), true);
    assert.deepEqual([c.isStatelessReset(TOKEN_1), c.isStatelessReset(TOKEN_0)], [true, false]);
  });

  it('never answers with a reset as large as the trigger, nor one under 22 bytes (§10.3, §10.3.3)', () => {
    for (const trigger of [1200, 44, 43, 23]) {
      const reset = buildStatelessReset(TOKEN_0, trigger)!;
      assert.ok(reset.length < trigger && reset.length >= 22, `trigger ${trigger}: reset ${reset.length}`);
      assert.equal(reset[0]! & 0xc0, 0x40, 'short header form, fixed bit set');
      assert.deepEqual(reset.subarray(reset.length - 16), TOKEN_0);
    }
    assert.equal(buildStatelessReset(TOKEN_0, 22), null);
  });
});
