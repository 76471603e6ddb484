/**
 * Each record's declared RDLENGTH must fit its type (RFC 1035 §3.4.1: "A 32 bit Internet
 * address"; RFC 3596 §2.2: a 128-bit address; RFC 2782; RFC 6698 §2.1) and lie inside the message.
 * dns-packet decodes leniently: an A record with 2 bytes of data became "127.0.undefined.undefined",
 * which a connector then handed to the system resolver.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeResponse, type DnsQueryType } from '../../../app/security/dnsMessage.ts';
import { SecurityError } from '../../../app/security/securityError.ts';

const TYPE: Record<string, number> = { A: 1, CNAME: 5, SOA: 6, TXT: 16, AAAA: 28, SRV: 33, TLSA: 52 };
const ID = 0x1234;

function name(text: string): Buffer {
  if (text === '.') return Buffer.from([0]);
  return Buffer.concat([
    ...text.split('.').map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'ascii')])),
    Buffer.from([0]),
  ]);
}

interface Rr {
  type: string;
  rdata: Buffer;
  /** RDLENGTH as declared, when it lies. */
  rdlength?: number;
  /** Owner; the question's name (a pointer to offset 12) by default. */
  owner?: Buffer;
}

/** A response to `qname qtype` with the given answer records, built byte by byte. */
function response(qname: string, qtype: string, answers: Rr[], trailing = Buffer.alloc(0)): Uint8Array {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(ID, 0);
  header.writeUInt16BE(0x8180, 2); // QR, RD, RA
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const question = Buffer.concat([name(qname), Buffer.from([0, TYPE[qtype]!, 0, 1])]);
  const records = answers.map((rr) => {
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(TYPE[rr.type]!, 0);
    fixed.writeUInt16BE(1, 2);
    fixed.writeUInt32BE(300, 4);
    fixed.writeUInt16BE(rr.rdlength ?? rr.rdata.length, 8);
    return Buffer.concat([rr.owner ?? Buffer.from([0xc0, 12]), fixed, rr.rdata]);
  });
  return new Uint8Array(Buffer.concat([header, question, ...records, trailing]));
}

function decode(bytes: Uint8Array, qname: string, type: DnsQueryType) {
  return decodeResponse(bytes, { id: ID, name: qname, type });
}

function assertMalformed(bytes: Uint8Array, qname: string, type: DnsQueryType, what: string) {
  assert.throws(
    () => decode(bytes, qname, type),
    (error: unknown) => {
      assert.ok(error instanceof SecurityError, `${what}: ${String(error)}`);
      assert.equal(error.code, 'dns-malformed', what);
      assert.match(error.message, new RegExp(qname.replace(/\./g, '\\.')), what);
      return true;
    },
    what,
  );
}

const srv = (priority: number, weight: number, port: number, target: Buffer) => {
  const fixed = Buffer.alloc(6);
  fixed.writeUInt16BE(priority, 0);
  fixed.writeUInt16BE(weight, 2);
  fixed.writeUInt16BE(port, 4);
  return Buffer.concat([fixed, target]);
};

describe('decodeResponse checks each record against its type', () => {
  test('well-formed records still decode', () => {
    const a = decode(response('x.test', 'A', [{ type: 'A', rdata: Buffer.from([127, 0, 0, 1]) }]), 'x.test', 'A');
    assert.equal(a.kind === 'answer' && a.records[0], '127.0.0.1');
    const six = Buffer.alloc(16);
    six[15] = 1;
    const aaaa = decode(response('x.test', 'AAAA', [{ type: 'AAAA', rdata: six }]), 'x.test', 'AAAA');
    assert.equal(aaaa.kind === 'answer' && aaaa.records[0], '::1');
    const s = decode(
      response('_xmpp-client._tcp.x.test', 'SRV', [{ type: 'SRV', rdata: srv(0, 5, 5222, name('xmpp.x.test')) }]),
      '_xmpp-client._tcp.x.test',
      'SRV',
    );
    assert.deepEqual(s.kind === 'answer' && s.records[0], {
      priority: 0,
      weight: 5,
      port: 5222,
      target: 'xmpp.x.test',
      ttl: 300,
    });
    const root = decode(
      response('_xmpp-client._tcp.x.test', 'SRV', [{ type: 'SRV', rdata: srv(0, 0, 0, name('.')) }]),
      '_xmpp-client._tcp.x.test',
      'SRV',
    );
    assert.equal(root.kind === 'answer' && (root.records[0] as { target: string }).target, '.');
    const tlsa = decode(
      response('_5222._tcp.x.test', 'TLSA', [
        { type: 'TLSA', rdata: Buffer.concat([Buffer.from([3, 1, 1]), Buffer.alloc(32, 7)]) },
      ]),
      '_5222._tcp.x.test',
      'TLSA',
    );
    assert.equal(tlsa.kind === 'answer' && (tlsa.records[0] as { data: Uint8Array }).data.length, 32);
  });

  test('an A record with 2 bytes of data is refused, not turned into 127.0.undefined.undefined', () => {
    assertMalformed(
      response('x.test', 'A', [{ type: 'A', rdata: Buffer.from([127, 0]) }]),
      'x.test',
      'A',
      'A, 2 bytes',
    );
  });

  test('A and AAAA of any length but 4 and 16 are refused, even with bytes after them', () => {
    const tail = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    assertMalformed(
      response('x.test', 'A', [{ type: 'A', rdata: Buffer.from([10, 0, 0, 1, 9, 9]) }]),
      'x.test',
      'A',
      'A, 6 bytes',
    );
    assertMalformed(
      response('x.test', 'A', [{ type: 'A', rdata: Buffer.from([10, 0]), rdlength: 2 }], tail),
      'x.test',
      'A',
      'A, 2 + trailing',
    );
    assertMalformed(
      response('x.test', 'AAAA', [{ type: 'AAAA', rdata: Buffer.alloc(4) }]),
      'x.test',
      'AAAA',
      'AAAA, 4 bytes',
    );
    assertMalformed(
      response('x.test', 'AAAA', [{ type: 'AAAA', rdata: Buffer.alloc(17) }]),
      'x.test',
      'AAAA',
      'AAAA, 17 bytes',
    );
  });

  test('RDLENGTH past the end of the message is refused', () => {
    assertMalformed(
      response('x.test', 'A', [{ type: 'A', rdata: Buffer.from([10, 0, 0, 1]), rdlength: 40 }]),
      'x.test',
      'A',
      'RDLENGTH 40 of 4',
    );
  });

  test('SRV shorter than 7 bytes, or whose target overruns or underruns RDLENGTH, is refused', () => {
    const q = '_xmpp-client._tcp.x.test';
    assertMalformed(
      response(q, 'SRV', [{ type: 'SRV', rdata: Buffer.from([0, 0, 0, 5, 20, 102]) }]),
      q,
      'SRV',
      'SRV, 6 bytes',
    );
    const target = srv(0, 5, 5222, name('xmpp.x.test'));
    assertMalformed(
      response(q, 'SRV', [{ type: 'SRV', rdata: target.subarray(0, 10), rdlength: 10 }], target.subarray(10)),
      q,
      'SRV',
      'SRV target runs past RDLENGTH',
    );
    assertMalformed(
      response(q, 'SRV', [{ type: 'SRV', rdata: Buffer.concat([target, Buffer.from([0xff, 0xff])]) }]),
      q,
      'SRV',
      'SRV with bytes after its target',
    );
    assertMalformed(
      response(q, 'SRV', [{ type: 'SRV', rdata: srv(0, 5, 5222, Buffer.from([0x45, 0x41, 0])) }]),
      q,
      'SRV',
      'SRV target with a reserved label type',
    );
  });

  test('TLSA shorter than 4 bytes, or a SHA-256/SHA-512 of the wrong size, is refused', () => {
    const q = '_5222._tcp.x.test';
    assertMalformed(response(q, 'TLSA', [{ type: 'TLSA', rdata: Buffer.from([3, 1, 1]) }]), q, 'TLSA', 'TLSA, 3 bytes');
    assertMalformed(
      response(q, 'TLSA', [{ type: 'TLSA', rdata: Buffer.concat([Buffer.from([3, 1, 1]), Buffer.alloc(20)]) }]),
      q,
      'TLSA',
      'TLSA SHA-256 of 20 bytes',
    );
    assertMalformed(
      response(q, 'TLSA', [{ type: 'TLSA', rdata: Buffer.concat([Buffer.from([3, 1, 2]), Buffer.alloc(32)]) }]),
      q,
      'TLSA',
      'TLSA SHA-512 of 32 bytes',
    );
  });

  test('a CNAME whose name does not fill its RDLENGTH exactly is refused', () => {
    const target = name('y.test');
    assertMalformed(
      response('x.test', 'A', [
        { type: 'CNAME', rdata: Buffer.concat([target, Buffer.from([7])]) },
        { type: 'A', rdata: Buffer.from([10, 0, 0, 1]), owner: name('y.test') },
      ]),
      'x.test',
      'A',
      'CNAME with a byte after its name',
    );
  });

  test('a record of another type with a bad length is refused too (an A among AAAA answers)', () => {
    const six = Buffer.alloc(16);
    assertMalformed(
      response('x.test', 'AAAA', [
        { type: 'A', rdata: Buffer.from([10, 0]) },
        { type: 'AAAA', rdata: six },
      ]),
      'x.test',
      'AAAA',
      'A, 2 bytes, beside an AAAA',
    );
  });
});
