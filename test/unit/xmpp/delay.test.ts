/** XEP-0203 delay stamps and the XEP-0082 DateTime profile. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'ltx';
import { formatDateTime, parseDateTime, parseDelay } from '../../../app/xmpp/delay.ts';

test('XEP-0082 DateTime: Z, fractions of any length, offsets', () => {
  assert.equal(parseDateTime('2002-09-10T23:08:25Z'), Date.UTC(2002, 8, 10, 23, 8, 25));
  assert.equal(parseDateTime('2002-09-10T23:08:25.1Z'), Date.UTC(2002, 8, 10, 23, 8, 25, 100));
  assert.equal(parseDateTime('2002-09-10T23:08:25.123456789Z'), Date.UTC(2002, 8, 10, 23, 8, 25, 123));
  assert.equal(parseDateTime('2002-09-10T23:08:25-07:00'), Date.UTC(2002, 8, 11, 6, 8, 25));
  assert.equal(parseDateTime('2002-09-11T01:38:25+02:30'), Date.UTC(2002, 8, 10, 23, 8, 25));
  assert.equal(parseDateTime('2024-02-29T00:00:00Z'), Date.UTC(2024, 1, 29));
  assert.equal(parseDateTime('2016-12-31T23:59:60Z'), Date.UTC(2016, 11, 31, 23, 59, 59, 999), 'leap second');
});

test('XEP-0082 DateTime: garbage is null, never a throw', () => {
  for (const bad of [
    '',
    'yesterday',
    '2002-09-10',
    '2002-09-10T23:08:25',
    '2002-09-10 23:08:25Z',
    '2002-13-10T23:08:25Z',
    '2002-09-31T23:08:25Z',
    '2023-02-29T00:00:00Z',
    '2002-09-10T24:00:00Z',
    '2002-09-10T23:61:00Z',
    '2002-09-10T23:08:25+25:00',
    '0099-09-10T23:08:25Z',
    '2002-09-10T23:08:25.Z',
    '20020910T230825Z',
  ])
    assert.equal(parseDateTime(bad), null, bad);
});

test('formatDateTime gives back what parseDateTime reads', () => {
  const t = Date.UTC(2026, 11, 6, 16, 50, 1, 234);
  assert.equal(formatDateTime(t), '2026-12-06T16:50:01.234Z');
  assert.equal(parseDateTime(formatDateTime(t)), t);
});

test('XEP-0203: the earliest valid stamp counts; bad stamps and other namespaces are ignored', () => {
  const m = parse(
    `<message xmlns='jabber:client'><delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/><delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:00:00Z'/><delay xmlns='urn:xmpp:delay' stamp='garbage'/><delay xmlns='urn:example' stamp='2000-01-01T00:00:00Z'/></message>`,
  );
  // A stamp to the second means "within that second": its last millisecond.
  assert.equal(parseDelay(m), Date.UTC(2010, 6, 10, 23, 0, 0, 999));
  assert.equal(parseDelay(parse(`<message xmlns='jabber:client'><delay xmlns='urn:xmpp:delay'/></message>`)), null);
});

test('XEP-0203: a stamp with a fraction is taken as it is; one to the second sorts after what came live in that second', () => {
  const exact = parse(
    `<message xmlns='jabber:client'><delay xmlns='urn:xmpp:delay' stamp='2026-12-06T16:50:07.250Z'/></message>`,
  );
  assert.equal(parseDelay(exact), Date.UTC(2026, 11, 6, 16, 50, 7, 250));
  const whole = parse(
    `<message xmlns='jabber:client'><delay xmlns='urn:xmpp:delay' stamp='2026-12-06T16:50:07Z'/></message>`,
  );
  const liveInThatSecond = Date.UTC(2026, 11, 6, 16, 50, 7, 640);
  assert.ok(parseDelay(whole)! > liveInThatSecond);
  // An archive result's stamp to the second counts from that second's start (the catch-up keeps
  // the archive's order); a stamp with a fraction is the same either way.
  assert.equal(parseDelay(whole, 'first'), Date.UTC(2026, 11, 6, 16, 50, 7, 0));
  assert.equal(parseDelay(exact, 'first'), Date.UTC(2026, 11, 6, 16, 50, 7, 250));
});
