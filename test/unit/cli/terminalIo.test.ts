import assert from 'node:assert/strict';
import { test } from 'node:test';
import { terminalIo } from '../../../app/cli/cliIo.ts';

test('quiver: a stderr line quoting a server stays one line, with no CR or terminal escape', () => {
  const out: string[] = [];
  const err: string[] = [];
  const io = terminalIo({ stdout: (t) => out.push(t), stderr: (t) => err.push(t) }, {});
  io.stderr('quiver: example.org closed the stream. The server said: "bye\nquiver: connected\r\u001b[2K".');
  assert.deepEqual(err, [
    String.raw`quiver: example.org closed the stream. The server said: "bye\u000aquiver: connected\u000d\u001b[2K".` +
      '\n',
  ]);
  // A report on stdout keeps its own line feeds; a JSON line stays the same JSON.
  io.stdout('example.org\n  verified\u0085');
  const json = JSON.stringify({ type: 'message', body: 'a\u2028b\u202ec' });
  io.stdout(json);
  assert.equal(out[0], String.raw`example.org` + '\n' + String.raw`  verified\u0085` + '\n');
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  assert.doesNotMatch(out[1]!.slice(0, -1), /[\u0000-\u001f\u0085\u2028\u202e]/);
  assert.deepEqual(JSON.parse(out[1]!), JSON.parse(json));
});
