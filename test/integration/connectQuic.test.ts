/**
 * `quiver connect` with several accounts over QUIC (issue 11), against the lab's gateway and Prosody:
 * one connection manager (one QUIC session pool) for all the JIDs, one security record each.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labFromEnv } from '../support/lab.ts';
import { labCliOptions } from '../support/labCli.ts';
import { runQuiver } from '../support/cli.ts';
import type { SecurityRecord } from '../../app/contract/viewModels.ts';

const lab = labFromEnv();
const labOptions = labCliOptions(lab, 'quiver-cli-quic-');

test('quiver connect a@quic-a b@quic-a --transport quic --json: two records on one QUIC connection', async () => {
  const [alice, bob] = ['alice@quic-a.test', 'bob@quic-a.test'];
  const result = await runQuiver(
    [
      'connect',
      alice,
      bob,
      '--transport',
      'quic',
      '--json',
      ...labOptions(),
      '--password-env',
      'PW_ALICE',
      '--password-env',
      'PW_BOB',
    ],
    { PW_ALICE: lab.users[alice]!, PW_BOB: lab.users[bob]! },
  );
  assert.equal(result.code, 0, result.stderr);
  const records = result.json as unknown as SecurityRecord[];
  assert.equal(records.length, 2, result.stdout);
  assert.deepEqual(
    records.map((r) => r.jid),
    [alice, bob],
  );
  for (const r of records) {
    assert.equal(r.transport, 'quic');
    assert.equal(r.alpn, 'xmpp-client');
    assert.equal(r.verification.trusted, true);
    assert.ok(r.boundJid?.startsWith(`${r.jid}/`), `bound ${r.boundJid}`);
    assert.equal(r.fallback, null);
    assert.equal(typeof r.quicStreamId, 'number');
  }
  const [a, b] = records as [SecurityRecord, SecurityRecord];
  assert.ok(a.quicConnectionId);
  assert.equal(b.quicConnectionId, a.quicConnectionId, 'both accounts ride one QUIC connection');
  assert.notEqual(b.quicStreamId, a.quicStreamId, 'one stream each');
  assert.equal((a.quic?.sharedWith ?? -1) + (b.quic?.sharedWith ?? -1), 1, 'one of them joined the other');
});

test('the next run resumes the QUIC session from the ticket the first one kept, and sends its stream header in 0-RTT', async () => {
  const carol = 'carol@quic-a.test';
  const once = async (): Promise<SecurityRecord> => {
    const result = await runQuiver(
      ['connect', carol, '--transport', 'quic', '--json', ...labOptions(), '--password-env', 'PW'],
      { PW: lab.users[carol]! },
    );
    assert.equal(result.code, 0, result.stderr);
    return (result.json as unknown as SecurityRecord[])[0]!;
  };
  // The data dir may hold a ticket from the test above (another name is never offered one).
  await once();
  const next = await once();
  assert.equal(next.transport, 'quic');
  assert.equal(next.quic?.resumed, true, 'resumed from the ticket kept in the data dir');
  assert.equal(next.quic?.earlyData, 'accepted', 'the stream header went in 0-RTT and the gateway took it');
  assert.equal(next.verification.trusted, true, "the verifier judged the ticket's stored chain");
  assert.ok(next.certificates.length > 0, 'the record still shows the certificate (from the ticket)');
  assert.ok(next.boundJid?.startsWith(`${carol}/`));
});
