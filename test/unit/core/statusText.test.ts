import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shortCause, statusText, type StatusFacts } from '../../../app/core/statusText.ts';

const base: StatusFacts = {
  enabled: true,
  status: 'offline',
  error: null,
  attempt: null,
  online: null,
  retryInMs: null,
};

test('disabled wins over anything the session last said', () => {
  assert.equal(
    statusText({ ...base, enabled: false, status: 'error', error: { code: 'x', message: 'y' } }),
    'disabled',
  );
});

test('connecting: plain before a candidate is known, then the transport, host and port', () => {
  assert.equal(statusText({ ...base, status: 'connecting' }), 'connecting');
  assert.equal(
    statusText({ ...base, status: 'connecting', attempt: { transport: 'quic', host: 'xmpp.example.org', port: 443 } }),
    'connecting over QUIC to xmpp.example.org:443',
  );
  assert.equal(
    statusText({ ...base, status: 'connecting', attempt: { transport: 'tls', host: 'xmpp.example.org', port: 5223 } }),
    'connecting over direct TLS to xmpp.example.org:5223',
  );
  assert.equal(
    statusText({ ...base, status: 'connecting', attempt: { transport: 'starttls', host: 'example.org', port: 5222 } }),
    'connecting over STARTTLS to example.org:5222',
  );
});

test('online: the transport, and how many other accounts share a QUIC connection', () => {
  const online = { ...base, status: 'online' as const };
  assert.equal(
    statusText({ ...online, online: { transport: 'quic', sharedWith: 2 } }),
    'online (QUIC, shared with 2 accounts)',
  );
  assert.equal(
    statusText({ ...online, online: { transport: 'quic', sharedWith: 1 } }),
    'online (QUIC, shared with 1 account)',
  );
  assert.equal(statusText({ ...online, online: { transport: 'quic', sharedWith: 0 } }), 'online (QUIC)');
  assert.equal(statusText({ ...online, online: { transport: 'tls', sharedWith: 0 } }), 'online (direct TLS)');
  assert.equal(statusText({ ...online, online: { transport: 'starttls', sharedWith: 0 } }), 'online (STARTTLS)');
  assert.equal(statusText(online), 'online');
});

test('an error in short words; a pending certificate decision; a back-off timer', () => {
  const failed = (code: string) => ({ ...base, status: 'error' as const, error: { code, message: 'long text' } });
  assert.equal(statusText(failed('not-authorized')), 'offline: wrong password');
  assert.equal(statusText(failed('needs-decision')), 'waiting for your decision on a certificate');
  assert.equal(
    statusText({ ...failed('connection-refused'), retryInMs: 29_600 }),
    'offline: server unreachable, reconnecting in 30 s',
  );
  assert.equal(statusText({ ...base, status: 'connecting', retryInMs: 30_000 }), 'reconnecting in 30 s');
  assert.equal(
    statusText({
      ...base,
      status: 'connecting',
      error: { code: 'closed', message: 'Connection lost: x' },
      retryInMs: 1_000,
    }),
    'connection lost, reconnecting in 1 s',
  );
  assert.equal(statusText({ ...base }), 'offline');
});

test('every cause is short; an unknown code is spoken, not hidden', () => {
  assert.equal(shortCause('wrong-name'), 'certificate for another server');
  assert.equal(shortCause('key-changed'), 'server key changed');
  assert.equal(shortCause('host-not-found'), 'server not found');
  assert.equal(shortCause('refused-by-user'), 'you refused the certificate');
  assert.equal(shortCause('some-future-condition'), 'some future condition');
});
