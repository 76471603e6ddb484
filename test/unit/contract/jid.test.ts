/**
 * The contract's JID validators follow RFC 7622 (PRECIS for localpart and resourcepart, IDNA-style
 * labels or an IP literal for the domainpart, 1023 octets per part), not a character blacklist.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bareJid, contactJid } from '../../../app/contract/validate.ts';
import { jidProblem, jidSafetyProblem } from '../../../app/contract/jidRules.ts';

const FULL = { localpart: 'optional', resource: 'optional' } as const;

const ACCEPTED_BARE = [
  'alice@example.org',
  'Alice@Example.ORG',
  'juliet@example.com.',
  'alice@127.0.0.1',
  'alice@[::1]',
  'o.brien+tag_x!#$%*=?^`{|}~@example.org',
  'juliet@ｅxample.com'.replace('ｅ', 'e'),
  'ｊｕｌｉｅｔ@example.com',
  'müller@bücher.example',
  'π@example.com',
  '東@例え.テスト',
  `${'a'.repeat(1023)}@example.org`,
  `a@${'b'.repeat(63)}.${'c'.repeat(63)}.example`,
];

const REFUSED_BARE: [string, RegExp][] = [
  ['alice\u0000@example.org', /U\+0000/],
  ['alice@example.org\u0000', /U\+0000/],
  ['alice\n@example.org', /U\+000A/],
  ['ali\u0085ce@example.org', /U\+0085/],
  ['al\u202eice@example.org', /U\+202E/],
  ['a\u200bb@example.org', /U\+200B/],
  ['al ice@example.org', /U\+0020/],
  ['alice@exa mple.org', /U\+0020/],
  ['"alice"@example.org', /name part/],
  ["o'brien@example.org", /name part/],
  ['a&b@example.org', /name part/],
  ['a:b@example.org', /name part/],
  ['a<b@example.org', /name part/],
  ['@example.org', /nothing before the @/],
  ['alice@', /no domain/],
  ['alice@.', /no domain/],
  ['alice', /name@domain/],
  ['alice@example.org/phone', /resource/],
  ['alice@bob@example.org', /domain/],
  ['alice@exa..mple', /empty label/],
  ['alice@-example.org', /letters, digits/],
  ['alice@exa_mple.org', /letters, digits/],
  ['alice@ex<ample.org', /letters, digits/],
  ['☺@example.org', /U\+263A/],
  ['ﬁ@example.org', /U\+FB01/],
  ['alice@☺.example', /U\+263A/],
  [`${'a'.repeat(1024)}@example.org`, /longer than 1023 bytes/],
  [`${'é'.repeat(512)}@example.org`, /longer than 1023 bytes/],
  [`a@${'b'.repeat(64)}.example`, /label longer than 63 bytes/],
  [`a@${Array.from({ length: 17 }, () => 'b'.repeat(60)).join('.')}`, /domain longer than 1023 bytes/],
];

test('bareJid accepts what RFC 7622 allows, as typed', () => {
  for (const jid of ACCEPTED_BARE) {
    assert.deepEqual(bareJid(jid, 'jid'), { ok: true, value: jid }, jid);
  }
});

test('bareJid refuses NUL, controls, spaces, forbidden localpart characters and overlong parts, saying why', () => {
  for (const [jid, why] of REFUSED_BARE) {
    const r = bareJid(jid, 'jid');
    assert.equal(r.ok, false, JSON.stringify(jid));
    if (!r.ok) {
      assert.match(r.error, /^jid is not a valid XMPP address: it /, JSON.stringify(jid));
      assert.match(r.error, why, `${JSON.stringify(jid).slice(0, 40)}: ${r.error}`);
    }
  }
  assert.deepEqual(bareJid(42, 'jid'), { ok: false, error: 'jid must be a string' });
});

test('contactJid also takes a domain JID and refuses the same characters', () => {
  for (const jid of ['example.org', 'conference.example.org', 'bob@example.org', '[2001:db8::1]']) {
    assert.equal(contactJid(jid, 'to').ok, true, jid);
  }
  for (const jid of ['example.org\u0000', 'bob@example.org/x', '', 'a b', 'bob@']) {
    assert.equal(contactJid(jid, 'to').ok, false, JSON.stringify(jid));
  }
});

test('resourceparts follow the FreeformClass: spaces and symbols yes, controls and invisible characters no', () => {
  assert.equal(jidProblem('juliet@example.com/balcony ☺ Ω', FULL), null);
  assert.equal(jidProblem('juliet@example.com/a/b@c', FULL), null);
  assert.match(jidProblem('juliet@example.com/', FULL)!, /nothing after the \//);
  assert.match(jidProblem('juliet@example.com/x\u0000', FULL)!, /U\+0000/);
  assert.match(jidProblem('juliet@example.com/x\u00ad', FULL)!, /U\+00AD/);
  assert.match(jidProblem(`juliet@example.com/${'r'.repeat(1024)}`, FULL)!, /resource longer than 1023 bytes/);
});

test('jidSafetyProblem: lenient on what a server may route, strict on controls, format characters and sizes', () => {
  for (const fine of ['gateway_1.example.org', 'room@conference.example.org/Nick Name', 'alice@example.org/phone']) {
    assert.equal(jidSafetyProblem(fine), null, fine);
  }
  for (const bad of [
    'alice@example.org/x\ny',
    'alice\u0000@example.org',
    'alice@example.org/\u202egnp.exe',
    'alice@example.org/\u2028',
    `${'a'.repeat(1024)}@example.org`,
    `alice@example.org/${'r'.repeat(1024)}`,
  ]) {
    assert.notEqual(jidSafetyProblem(bad), null, JSON.stringify(bad.slice(0, 30)));
  }
});
