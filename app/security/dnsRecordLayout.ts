/**
 * The byte layout of a DNS message's records, checked before anything is read from them. dns-packet
 * decodes leniently: it reads an A record's four octets whatever RDLENGTH says (2 bytes of data
 * became "127.0.undefined.undefined"), and a name inside RDATA may run past its RDLENGTH into the
 * next record. Here every record must lie inside the message, and the data of the types Quiver reads
 * must fill its declared length exactly as its RFC lays it out.
 */

/** RR TYPE values (RFC 1035 §3.2.2, RFC 3596, RFC 2782, RFC 6891, RFC 6698). */
const A = 1;
const NS = 2;
const CNAME = 5;
const SOA = 6;
const PTR = 12;
const TXT = 16;
const AAAA = 28;
const SRV = 33;
const OPT = 41;
const TLSA = 52;

const TYPE_NAMES: Record<number, string> = {
  [A]: 'A',
  [NS]: 'NS',
  [CNAME]: 'CNAME',
  [SOA]: 'SOA',
  [PTR]: 'PTR',
  [TXT]: 'TXT',
  [AAAA]: 'AAAA',
  [SRV]: 'SRV',
  [OPT]: 'OPT',
  [TLSA]: 'TLSA',
};

/** RFC 1035 §2.3.4: "names 255 octets or less" (on the wire, length octets included). */
const MAX_NAME_OCTETS = 255;
/** RFC 6698 §2.1.3: matching type 1 is SHA-256, 2 is SHA-512. */
const DIGEST_OCTETS: Record<number, number> = { 1: 32, 2: 64 };
const HEADER_BYTES = 12;

/**
 * Null when every question and record is laid out as its type requires, else a phrase saying what
 * is wrong ("an A record holds 2 bytes of data, not 4"). `bytes` starts with a 12-byte header.
 */
export function recordLayoutProblem(bytes: Uint8Array): string | null {
  if (bytes.length < HEADER_BYTES) return 'the message is shorter than a DNS header';
  const u16 = (at: number) => (bytes[at]! << 8) | bytes[at + 1]!;
  const questions = u16(4);
  const records = u16(6) + u16(8) + u16(10);
  let offset = HEADER_BYTES;
  for (let i = 0; i < questions; i++) {
    const end = nameEnd(bytes, offset, bytes.length);
    if (end === null || end + 4 > bytes.length) return 'a question is cut short or its name is malformed';
    offset = end + 4;
  }
  for (let i = 0; i < records; i++) {
    const end = nameEnd(bytes, offset, bytes.length);
    if (end === null) return 'a record has a malformed owner name';
    if (end + 10 > bytes.length) return 'a record is cut short';
    const type = u16(end);
    const length = u16(end + 8);
    const start = end + 10;
    const name = TYPE_NAMES[type] ?? `TYPE${type}`;
    if (start + length > bytes.length) {
      return `${article(name)} ${name} record declares ${length} bytes of data, past the end of the message`;
    }
    const problem = rdataProblem(bytes, type, start, start + length);
    if (problem !== null) return `${article(name)} ${name} record ${problem}`;
    offset = start + length;
  }
  return null;
}

/** Null when the RDATA in [start, end) is laid out as `type` requires. */
function rdataProblem(bytes: Uint8Array, type: number, start: number, end: number): string | null {
  const length = end - start;
  const exactName = (from: number) => {
    const after = nameEnd(bytes, from, end);
    return after === end ? null : 'holds a name that is malformed or does not end where its data does';
  };
  switch (type) {
    // RFC 1035 §3.4.1: "A 32 bit Internet address."
    case A:
      return length === 4 ? null : `holds ${length} bytes of data, not 4`;
    // RFC 3596 §2.2: "A 128 bit IPv6 address is encoded in the data portion of an AAAA resource record".
    case AAAA:
      return length === 16 ? null : `holds ${length} bytes of data, not 16`;
    case NS:
    case CNAME:
    case PTR:
      return exactName(start);
    // RFC 2782: Priority, Weight and Port (16 bits each), then Target, a domain name (the root at least).
    case SRV:
      return length < 7 ? `holds ${length} bytes of data, fewer than 7` : exactName(start + 6);
    // RFC 6698 §2.1: usage, selector, matching type (one octet each), then the association data.
    case TLSA: {
      if (length < 4) return `holds ${length} bytes of data, fewer than 4`;
      const digest = DIGEST_OCTETS[bytes[start + 2]!];
      return digest === undefined || length - 3 === digest
        ? null
        : `holds a ${length - 3}-byte digest where its matching type needs ${digest}`;
    }
    // RFC 1035 §3.3.14: "One or more <character-string>s", each a length octet and that many octets.
    case TXT: {
      if (length < 1) return 'holds no character-string';
      let at = start;
      while (at < end) at += 1 + bytes[at]!;
      return at === end ? null : 'holds a character-string that runs past its data';
    }
    // RFC 1035 §3.3.13: MNAME, RNAME, then five 32-bit fields.
    case SOA: {
      const mname = nameEnd(bytes, start, end);
      const rname = mname === null ? null : nameEnd(bytes, mname, end);
      return rname !== null && rname + 20 === end ? null : 'is not two names and five 32-bit fields';
    }
    default:
      return null;
  }
}

/**
 * Where the name at `start` ends in place (after its zero octet or its compression pointer), or
 * null when it is malformed: a reserved label type, a label past `limit`, a pointer that does not
 * point strictly backwards (so that following pointers always ends), or more than 255 octets.
 */
function nameEnd(bytes: Uint8Array, start: number, limit: number): number | null {
  let at = start;
  let octets = 0;
  let end: number | null = null;
  // The walk ends: a pointer goes strictly backwards, and every label counts towards the 255
  // octets. `limit` bounds only the part in place (a pointer may lead anywhere earlier).
  for (;;) {
    const bound = end === null ? limit : bytes.length;
    if (at >= bound) return null;
    const octet = bytes[at]!;
    if (octet === 0) {
      octets += 1;
      return octets > MAX_NAME_OCTETS ? null : (end ?? at + 1);
    }
    const kind = octet & 0xc0;
    if (kind === 0xc0) {
      if (at + 2 > bound) return null;
      const target = ((octet & 0x3f) << 8) | bytes[at + 1]!;
      if (target >= at) return null;
      end ??= at + 2;
      at = target;
      continue;
    }
    // RFC 6891 §5 retired the 01 and 10 label types.
    if (kind !== 0) return null;
    octets += 1 + octet;
    if (octets > MAX_NAME_OCTETS || at + 1 + octet > bound) return null;
    at += 1 + octet;
  }
}

function article(name: string): string {
  return /^[AEFHILMNORSX]/.test(name) ? 'an' : 'a';
}
