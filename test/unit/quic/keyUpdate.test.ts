/**
 * KeyUpdate (app/quic/keyUpdate.ts): the 1-RTT key phase rules of RFC 9001 §6.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyUpdate } from '../../../app/quic/keyUpdate.ts';
import { initialKeys, nextPhaseKeys } from '../../../app/quic/packetProtection.ts';
import { APPLICATION, PacketSpace } from '../../../app/quic/packetSpace.ts';

function appSpace(): PacketSpace {
  const keys = initialKeys(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
  const app = new PacketSpace(APPLICATION);
  app.readKeys = keys.server;
  app.writeKeys = keys.client;
  return app;
}

describe('KeyUpdate (RFC 9001 §6)', () => {
  it('permits an update only once a packet of the current phase is acknowledged (§6.1)', () => {
    const k = new KeyUpdate();
    assert.equal(k.permitted, false);
    k.onPacketAcked(1);
    assert.equal(k.permitted, false);
    k.onPacketAcked(0);
    assert.equal(k.permitted, true);
    assert.equal(k.update(appSpace(), 0, true, 1000), true);
    assert.equal(k.permitted, false, 'each new phase waits for its own acknowledgment');
    k.onPacketAcked(0);
    assert.equal(k.permitted, false);
    k.onPacketAcked(1);
    assert.equal(k.permitted, true);
  });

  it('does nothing without 1-RTT keys', () => {
    const k = new KeyUpdate();
    assert.equal(k.update(new PacketSpace(APPLICATION), 0, true, 1000), false);
    assert.equal(k.phase, 0);
  });

  it('keeps the old read keys for the old phase until the peer moves, then until the deadline (§6.3)', () => {
    const k = new KeyUpdate();
    const app = appSpace();
    const oldRead = app.readKeys!;
    const oldWrite = app.writeKeys!;
    assert.equal(k.update(app, 0, true, 1000), true);
    assert.equal(k.phase, 1);
    assert.deepEqual(app.writeKeys!.key, nextPhaseKeys(oldWrite).key);
    assert.deepEqual(app.readKeys!.key, nextPhaseKeys(oldRead).key);
    // After our own update every packet with the old bit is from the old phase.
    assert.equal(k.keysForPhase(app, 0, 500, true), oldRead);
    assert.equal(k.isPeerUpdate(0, 500), false);
    // The peer's first packet in the new phase (pn 40) tells where the new phase starts.
    assert.equal(k.keysForPhase(app, 1, 40, true), app.readKeys);
    assert.equal(k.isPeerUpdate(1, 40), false);
    assert.equal(k.keysForPhase(app, 0, 39, true), oldRead);
    assert.equal(k.isPeerUpdate(0, 39), false);
    // The old bit on a later packet is the peer's next update.
    const next = k.keysForPhase(app, 0, 41, true);
    assert.ok(next && next !== oldRead);
    assert.deepEqual(next.key, nextPhaseKeys(app.readKeys!).key);
    assert.equal(k.isPeerUpdate(0, 41), true);
    assert.equal(k.discardDeadline, 1000);
    k.onTimeout(999);
    assert.equal(k.discardDeadline, 1000);
    k.onTimeout(1000);
    assert.equal(k.discardDeadline, Infinity);
  });

  it('opens no new phase before the handshake is confirmed', () => {
    const k = new KeyUpdate();
    assert.equal(k.keysForPhase(appSpace(), 1, 7, false), null);
  });

  it('asks for an update before the AES-GCM confidentiality limit, never for ChaCha20 (§6.6)', () => {
    const aes = new KeyUpdate();
    let first = 0;
    for (let n = 1; first === 0 && n <= 2 ** 23; n++) if (aes.onPacketSent('aes-128-gcm')) first = n;
    assert.equal(first, 2 ** 23 - 2 ** 20);
    assert.equal(aes.limitReached, false);
    const chacha = new KeyUpdate();
    let asked = false;
    for (let n = 1; n <= 2 ** 23; n++) if (chacha.onPacketSent('chacha20-poly1305')) asked = true;
    assert.equal(asked, false);
    assert.equal(chacha.limitReached, true);
  });
});
