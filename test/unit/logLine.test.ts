import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeControl, formatLogLine, lineSink } from '../../app/logLine.ts';
import { parse } from 'ltx';
import { peerStreamError } from '../../app/xmpp/streamError.ts';

/** Anything that would end a line, move the cursor or reorder text on a terminal or in a log viewer. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

test('a stream-error <text/> with a line break stays on its one log line', () => {
  // As a hostile server sends it: XML carries the line break, the CR and ESC as character references.
  const NS = `xmlns='urn:ietf:params:xml:ns:xmpp-streams'`;
  const stanza = parse(
    `<error><system-shutdown ${NS}/><text ${NS}>bye&#10;2025-01-01 quiver [info] alice@example.org: password accepted&#13;&#x85;</text></error>`,
  );
  const error = peerStreamError(stanza, 'example.org');
  assert.match(error.message, /\n/, 'the server text reaches the message as sent');
  const logged: string[] = [];
  const log = lineSink((level: string, line: string) => logged.push(`[${level}] ${line}`));
  log('warn', `alice@example.org: ${error.message}`);
  log('error', 'a command failed', error);
  assert.equal(logged.length, 2);
  for (const line of logged) {
    assert.doesNotMatch(line, RAW_CONTROL, line);
    assert.match(line, /bye\\u000a2025-01-01 quiver \[info\]/);
    assert.match(line, /password accepted\\u000d\\u0085/);
  }
  assert.match(logged[1]!, /^\[error\] a command failed: StreamError \[system-shutdown\]: /);
});

test('escapeControl writes C0, DEL, C1, line separators and bidi controls as \\uXXXX, and nothing else', () => {
  assert.equal(
    escapeControl('a\u0000b\tc\u007fd\u0085e\u2028f\u202eg\u2066h'),
    String.raw`a\u0000b\u0009c\u007fd\u0085e\u2028f\u202eg\u2066h`,
  );
  const plain = 'héllo 😀 C:\\Users\\x "quoted" <tag> & ☺';
  assert.equal(escapeControl(plain), plain);
  assert.equal(
    escapeControl('one\ntwo\rthree', { keepLineFeeds: true }),
    String.raw`one` + '\n' + String.raw`two\u000dthree`,
  );
});

test('escaping is idempotent and keeps a JSON line valid JSON with the same value', () => {
  const value = { text: 'a\u0085b\u2028c\u202ed\\u000a' };
  const line = JSON.stringify(value);
  const escaped = escapeControl(line);
  assert.doesNotMatch(escaped, RAW_CONTROL);
  assert.deepEqual(JSON.parse(escaped), value);
  assert.equal(escapeControl(escaped), escaped);
});

test('formatLogLine folds an error, its code, its first frames and its cause into one line', () => {
  const cause = new Error('inner\nline');
  const error = Object.assign(new Error('outer\nforged line', { cause }), { code: 'x-failed' });
  const line = formatLogLine('command failed', error);
  assert.doesNotMatch(line, RAW_CONTROL);
  assert.match(
    line,
    /^command failed: Error \[x-failed\]: outer\\u000aforged line \{at .+\}; caused by Error: inner\\u000aline \{at /,
  );
  assert.equal(formatLogLine('refused', { url: 'https://x/\n' }), String.raw`refused: {"url":"https://x/\n"}`);
  const cyclic: Record<string, unknown> = {};
  cyclic['self'] = cyclic;
  assert.match(formatLogLine('odd', cyclic), /^odd: \[object Object\] \(/);
  assert.equal(formatLogLine('no detail\u0007'), String.raw`no detail\u0007`);
});
