/**
 * `quiver connect` against the lab's real Prosody, DNS (nsd + unbound) and private CA.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labFromEnv } from '../support/lab.ts';
import { labCliOptions } from '../support/labCli.ts';
import { runQuiver } from '../support/cli.ts';
import type { SecurityRecord } from '../../app/contract/viewModels.ts';

const lab = labFromEnv();
const labOptions = labCliOptions(lab, 'quiver-cli-');

const common = () => [...labOptions(), '--password-env', 'LAB_PASSWORD'];
const pw = (jid: string) => ({ LAB_PASSWORD: lab.users[jid]! });

test('STARTTLS login prints the security record: transport, SRV record, TLS facts, PKIX verdict', async () => {
  const jid = 'alice@alpha.test';
  const result = await runQuiver(['connect', jid, '--transport', 'starttls', '--json', ...common()], pw(jid));
  assert.equal(result.code, 0, result.stderr);
  const record = result.json[0] as unknown as SecurityRecord;
  assert.equal(record.transport, 'starttls');
  assert.equal(record.source, 'srv:_xmpp-client._tcp');
  assert.match(
    record.srv ?? '',
    new RegExp(`^_xmpp-client\\._tcp\\.alpha\\.test\\. \\d+ \\d+ ${lab.prosody.starttlsPort} xmpp\\.alpha\\.test\\.$`),
  );
  assert.equal(record.port, lab.prosody.starttlsPort);
  assert.equal(record.sni, 'alpha.test');
  assert.match(record.tlsVersion ?? '', /^TLSv1\.[23]$/);
  assert.equal(record.verification.trusted, true);
  assert.equal(record.verification.prooftype, 'pkix');
  assert.match(record.verification.identity ?? '', /alpha\.test/);
  assert.match(record.saslMechanism ?? '', /^SCRAM-SHA-(1|256)(-PLUS)?$/);
  assert.ok(record.boundJid?.startsWith('alice@alpha.test/'), `bound ${record.boundJid}`);
  assert.ok(record.certificates.length >= 1);
  assert.match(record.certificates[0]!.sha256, /^[0-9a-f]{64}$/);
});

test('direct TLS login negotiates ALPN xmpp-client with SNI = the JID domain', async () => {
  const jid = 'alice@alpha.test';
  const result = await runQuiver(['connect', jid, '--transport', 'tls', '--json', ...common()], pw(jid));
  assert.equal(result.code, 0, result.stderr);
  const record = result.json[0] as unknown as SecurityRecord;
  assert.equal(record.transport, 'tls');
  assert.equal(record.source, 'srv:_xmpps-client._tcp');
  assert.equal(record.port, lab.prosody.tlsPort);
  assert.equal(record.alpn, 'xmpp-client');
  assert.equal(record.sni, 'alpha.test');
  assert.equal(record.verification.trusted, true);
});

test('--send and --wait-message move a real message between two lab accounts', async () => {
  const body = `hello ${Date.now()}`;
  const waiting = runQuiver(
    ['connect', 'bob@alpha.test', '--wait-message', '20', '--json', ...common()],
    pw('bob@alpha.test'),
  );
  // Bob may come online after Alice sends: Prosody then keeps the message offline and delivers it
  // on Bob's initial presence, so the test does not depend on who is first.
  const sent = await runQuiver(
    ['connect', 'alice@alpha.test', '--send', 'bob@alpha.test', body, '--json', ...common()],
    pw('alice@alpha.test'),
  );
  assert.equal(sent.code, 0, sent.stderr);
  const received = await waiting;
  assert.equal(received.code, 0, received.stderr);
  const messages = received.json.filter((l) => l.type === 'message');
  assert.equal(messages.length, 1);
  assert.equal(messages[0]!.body, body);
  assert.match(String(messages[0]!.from), /^alice@alpha\.test(\/|$)/);
});

test('a wrong password fails with a one-line reason', async () => {
  const result = await runQuiver(['connect', 'alice@alpha.test', ...common()], { LAB_PASSWORD: 'not-the-password' });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /password|not-authorized/i);
  assert.equal(result.stderr.trim().split('\n').length, 1);
});

test('a server that offers no STARTTLS is refused, never used in plaintext', async () => {
  const jid = 'dave@plain.test';
  const result = await runQuiver(['connect', jid, ...common()], { LAB_PASSWORD: lab.users[jid] ?? 'x' });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /STARTTLS|TLS|encrypt/i);
});

test('a certificate for another name is refused', async () => {
  const jid =
    Object.keys(lab.users).find((j) => j.endsWith(`@${lab.domains.wrongname}`)) ?? `erin@${lab.domains.wrongname}`;
  const result = await runQuiver(['connect', jid, '--json', ...common()], { LAB_PASSWORD: lab.users[jid] ?? 'x' });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /other\.test|certificate|name/i);
  // No record is printed as a success: the one JSON line is the error (code and message).
  assert.deepEqual(
    result.json.map((l) => l.type),
    ['error'],
  );
});

test('usage errors exit 2 and say what is wrong', async () => {
  const result = await runQuiver(['connect', 'not-a-jid']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /bare JID/);
});

/** Logs in to a DNA scenario of the lab and returns the printed (and stored) security record. */
async function connectRecord(jid: string): Promise<SecurityRecord> {
  const result = await runQuiver(
    ['connect', jid, '--json', '--https-port', String(lab.https.port), ...common()],
    pw(jid),
  );
  assert.equal(result.code, 0, result.stderr);
  return result.json[0] as unknown as SecurityRecord;
}

test('a hosted domain proved by POSH: the record names the prooftype and the delegation', async () => {
  const record = await connectRecord('henry@hosted.test');
  assert.equal(record.host, 'xmpp.provider.test');
  assert.equal(record.verification.prooftype, 'posh');
  assert.match(record.verification.delegation ?? '', /^posh:https:\/\/hosted\.test/);
});

test('a hosted domain proved by a DNSSEC-secure SRV answer', async () => {
  const record = await connectRecord('sam@secure-hosted.test');
  assert.equal(record.dnssec, 'secure');
  assert.equal(record.verification.prooftype, 'pkix');
  assert.match(record.verification.delegation ?? '', /^dnssec-srv:/);
});

test('DANE-EE with a self-signed certificate', async () => {
  const record = await connectRecord('dana@dane.test');
  assert.equal(record.verification.prooftype, 'dane-ee');
  assert.equal(record.dnssec, 'secure');
});

test('Host Meta 2 gives the way in and delegates by its sni', async () => {
  const record = await connectRecord('hank@hostmeta.test');
  assert.equal(record.source, 'host-meta');
  assert.equal(record.sni, 'xmpp.provider.test');
  assert.equal(record.verification.prooftype, 'pkix');
  assert.match(record.verification.delegation ?? '', /^host-meta:/);
});

test('a TLSA record that does not match refuses the server, with no PKIX fallback', async () => {
  const jid = 'mona@dane-mismatch.test';
  const result = await runQuiver(['connect', jid, ...common()], pw(jid));
  assert.equal(result.code, 1);
  assert.match(result.stderr, /TLSA|DANE/);
});

test('bogus DNSSEC answers refuse the domain', async () => {
  const jid = 'bob@bogus.test';
  const result = await runQuiver(['connect', jid, ...common()], { LAB_PASSWORD: lab.users[jid] ?? 'x' });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /DNSSEC/);
});

test('--send with an invalid JID is a usage error (exit 2) found before any login', async () => {
  const result = await runQuiver(
    ['connect', 'alice@alpha.test', '--send', 'not a jid', 'hello', ...common()],
    pw('alice@alpha.test'),
  );
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--send: "not a jid" is not a JID/);
  assert.equal(result.json.length, 0, 'no security record: nothing connected');
});
