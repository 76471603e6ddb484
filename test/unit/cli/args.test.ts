import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpsPortFlag, parseCommandArgs, resolverFlag, UsageError } from '../../../app/cli/args.ts';

const SPEC = { resolver: { arity: 1 }, 'https-port': { arity: 1 } } as const;
const parse = (...argv: string[]) => parseCommandArgs(argv, SPEC);

test("--resolver: HOST:PORT as the contract's hostPort validator says, with a real port", () => {
  assert.equal(resolverFlag(parse()), null);
  for (const ok of ['127.0.0.1:5353', 'dns.example.org:53', '[::1]:5300', 'localhost:65535'])
    assert.equal(resolverFlag(parse('--resolver', ok)), ok);
  for (const bad of ['nope', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:70000', 'a b:53', ':53']) {
    assert.throws(
      () => resolverFlag(parse('--resolver', bad)),
      (e: unknown) => e instanceof UsageError && /--resolver must be HOST:PORT/.test(e.message),
      bad,
    );
  }
});

test('--https-port: 1 to 65535, digits only', () => {
  assert.equal(httpsPortFlag(parse()), undefined);
  assert.equal(httpsPortFlag(parse('--https-port', '18443')), 18443);
  assert.equal(httpsPortFlag(parse('--https-port=443')), 443);
  for (const bad of ['0', '65536', '1e3', '0x50', '', ' 80', '-1']) {
    assert.throws(() => httpsPortFlag(parse('--https-port', bad)), UsageError, bad);
  }
});
