/**
 * The pure half of the DNS client: CNAME following and DNSSEC status over a scripted exchange, with
 * no socket and no timer (the UDP/TCP driver is tested against a fake server in dnsClient.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDnsClientOver, type DnsExchange } from '../../../app/security/dnsClient.ts';
import type { DecodedAnswer, DnsQueryType } from '../../../app/security/dnsMessage.ts';
import { SecurityError } from '../../../app/security/securityError.ts';

const SERVER = { host: '127.0.0.1', port: 53 };

function answer(fields: Partial<DecodedAnswer> & { canonicalName: string }): DecodedAnswer {
  return {
    kind: 'answer',
    rcode: 'NOERROR',
    truncated: false,
    authenticData: false,
    records: [],
    ttl: null,
    cnameHops: 0,
    negativeTtl: null,
    ...fields,
  };
}

/** An exchange answering from a table keyed by `TYPE name`, recording what was asked. */
function scripted(table: Record<string, DecodedAnswer>): { exchange: DnsExchange; asked: string[] } {
  const asked: string[] = [];
  const exchange: DnsExchange = async (name: string, type: DnsQueryType) => {
    asked.push(`${type} ${name}`);
    const found = table[`${type} ${name}`];
    if (!found) throw new Error(`unexpected question ${type} ${name}`);
    return found;
  };
  return { exchange, asked };
}

test('a trusted AD is secure, an untrusted one insecure; SERVFAIL from a trusted resolver is bogus', async () => {
  const { exchange } = scripted({
    'A a.test': answer({ canonicalName: 'a.test', records: ['192.0.2.1'], ttl: 60, authenticData: true }),
    'A broken.test': answer({ canonicalName: 'broken.test', rcode: 'SERVFAIL' }),
  });
  const trusting = createDnsClientOver(SERVER, true, exchange);
  const doubting = createDnsClientOver(SERVER, false, exchange);
  const secure = await trusting.query('a.test', 'A');
  assert.deepEqual(secure.records, ['192.0.2.1']);
  assert.equal(secure.dnssec, 'secure');
  assert.equal(secure.authenticData, true);
  assert.equal((await doubting.query('a.test', 'A')).dnssec, 'insecure');
  assert.equal((await trusting.query('broken.test', 'A')).dnssec, 'bogus');
  assert.equal((await doubting.query('broken.test', 'A')).dnssec, 'insecure');
  assert.deepEqual(trusting.server, SERVER);
});

test('an unfinished CNAME chain is asked for the rest; one insecure link makes the answer insecure', async () => {
  const { exchange, asked } = scripted({
    'A www.alpha.test': answer({ canonicalName: 'cdn.provider.test', cnameHops: 1 }),
    'A cdn.provider.test': answer({
      canonicalName: 'cdn.provider.test',
      records: ['192.0.2.9'],
      ttl: 60,
      authenticData: true,
    }),
  });
  const result = await createDnsClientOver(SERVER, true, exchange).query('www.alpha.test', 'A');
  assert.deepEqual(result.records, ['192.0.2.9']);
  assert.equal(result.dnssec, 'insecure', 'the first link had no AD');
  assert.deepEqual(asked, ['A www.alpha.test', 'A cdn.provider.test']);
});

test('a CNAME loop across answers is refused as dns-malformed', async () => {
  const { exchange } = scripted({
    'A a.test': answer({ canonicalName: 'b.test', cnameHops: 1 }),
    'A b.test': answer({ canonicalName: 'a.test', cnameHops: 1 }),
  });
  await assert.rejects(
    createDnsClientOver(SERVER, true, exchange).query('a.test', 'A'),
    (error) => error instanceof SecurityError && error.code === 'dns-malformed' && /CNAME loop/.test(error.message),
  );
});
