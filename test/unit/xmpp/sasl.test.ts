import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseMechanism, plainMessage } from '../../../app/xmpp/sasl.ts';
import type { ChannelBinding } from '../../../app/xmpp/scram.ts';

const cb: ChannelBinding = { type: 'tls-exporter', data: new Uint8Array(32) };
const ALL = ['PLAIN', 'SCRAM-SHA-1', 'SCRAM-SHA-256', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256-PLUS'];

function pick(mechanisms: string[], binding: ChannelBinding | null, types: string[] | null = null): string {
  const c = chooseMechanism({ mechanisms, channelBindingTypes: types }, binding);
  if (!c.ok) return `refused`;
  return `${c.mechanism} ${c.gs2 ? c.gs2.flag : '-'}`;
}

test('order: SCRAM-SHA-256-PLUS > SCRAM-SHA-1-PLUS > SCRAM-SHA-256 > SCRAM-SHA-1 > PLAIN', () => {
  assert.equal(pick(ALL, cb), 'SCRAM-SHA-256-PLUS p');
  assert.equal(pick(['SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1'], cb), 'SCRAM-SHA-1-PLUS p');
  assert.equal(pick(['SCRAM-SHA-1', 'SCRAM-SHA-256', 'PLAIN'], null), 'SCRAM-SHA-256 n');
  assert.equal(pick(['SCRAM-SHA-1', 'PLAIN'], null), 'SCRAM-SHA-1 n');
  assert.equal(pick(['PLAIN'], null), 'PLAIN -');
});

test('-PLUS only with channel-binding data', () => {
  assert.equal(pick(ALL, null), 'SCRAM-SHA-256 n');
});

test('RFC 5802 §6 gs2 flag: y when we could bind but the server offers no -PLUS', () => {
  assert.equal(pick(['SCRAM-SHA-256', 'SCRAM-SHA-1'], cb), 'SCRAM-SHA-256 y');
  assert.equal(pick(['PLAIN'], cb), 'PLAIN -');
});

test('XEP-0440: tls-exporter used only when listed', () => {
  assert.equal(pick(ALL, cb, ['tls-server-end-point', 'tls-exporter']), 'SCRAM-SHA-256-PLUS p');
  // Server binds with a type we lack: do not bind, and say so with 'n' (not 'y').
  assert.equal(pick(ALL, cb, ['tls-server-end-point']), 'SCRAM-SHA-256 n');
  // -PLUS offered but no type we or tls-server-end-point: XEP-0440 rule 6, abort.
  assert.equal(pick(ALL, cb, ['tls-unique']), 'refused');
});

test('PLAIN never when any SCRAM is offered; nothing acceptable is refused', () => {
  assert.equal(pick(['SCRAM-SHA-512', 'PLAIN'], null), 'refused');
  assert.equal(pick(['DIGEST-MD5', 'X-OAUTH2'], null), 'refused');
  assert.equal(pick([], null), 'refused');
});

test('RFC 4616 PLAIN message', () => {
  assert.deepEqual(Buffer.from(plainMessage('user', 'pencil')).toString(), '\u0000user\u0000pencil');
});
