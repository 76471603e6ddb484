import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './managedProcess.ts';
import { LabError } from './labError.ts';

/** A zone signed for one lab run. */
export interface SignedZone {
  /** The signed zone file nsd serves. */
  readonly zoneFile: string;
  /** The DS record of the zone's key (presentation format, one line): unbound's trust anchor. */
  readonly ds: string;
}

/** Covered types whose RRSIGs stay intact in a bogus zone, so SOA, DNSKEY and denial still validate. */
const KEPT_VALID = new Set(['SOA', 'NS', 'DNSKEY', 'NSEC', 'NSEC3', 'NSEC3PARAM']);

/**
 * Signs `zoneFile` (origin `origin`) with a fresh ECDSA P-256 (algorithm 13, RFC 6605) key made by
 * ldns-keygen in `dir`: one key with the SEP flag (a "combined signing key") signs every RRset,
 * NSEC for denial. The signatures' inception is an hour in the past so small clock differences do
 * not matter (RFC 4035 §5.3.1: the validator checks "the current time" against both dates).
 *
 * `bogus`: after signing, the signature bytes of every RRSIG over any other type than SOA, NS,
 * DNSKEY and NSEC are corrupted, so a validating resolver with the DS as anchor sees the zone as
 * secure but its SRV, A and TLSA answers as bogus (RFC 4033 §5) and answers SERVFAIL.
 */
export async function signZone(
  dir: string,
  origin: string,
  zoneFile: string,
  opts: { bogus?: boolean } = {},
): Promise<SignedZone> {
  const keyDir = join(dir, 'keys', origin);
  await mkdir(keyDir, { recursive: true });
  const out = await run(
    'ldns-keygen',
    ['-a', 'ECDSAP256SHA256', '-k', '-r', '/dev/urandom', origin],
    `making a DNSSEC key for ${origin}`,
    {
      cwd: keyDir,
    },
  );
  const base = /K\S+\+\d{3}\+\d{5}/.exec(out)?.[0];
  if (!base) throw new LabError('command-failed', `lab: ldns-keygen for ${origin} printed no key name: ${out.trim()}`);
  const signedFile = `${zoneFile}.signed`;
  const inception = Math.floor(Date.now() / 1000) - 3600;
  await run(
    'ldns-signzone',
    ['-i', String(inception), '-o', origin, '-f', signedFile, zoneFile, join(keyDir, base)],
    `signing ${origin}`,
  );
  if (opts.bogus) await writeFile(signedFile, corruptSignatures(await readFile(signedFile, 'utf8')));
  const ds = (await readFile(join(keyDir, `${base}.ds`), 'utf8')).trim().split(/\s+/).join(' ');
  return { zoneFile: signedFile, ds };
}

/**
 * Flips one byte in the signature of each RRSIG that does not cover a KEPT_VALID type. ldns prints
 * an RRSIG on one line: owner TTL class RRSIG covered alg labels origTTL exp inc tag signer sig...
 */
export function corruptSignatures(zoneText: string): string {
  return zoneText
    .split('\n')
    .map((line) => {
      const fields = line.trim().split(/\s+/);
      if (fields[3] !== 'RRSIG' || KEPT_VALID.has(fields[4] ?? '')) return line;
      const signature = Buffer.from(fields.slice(12).join(''), 'base64');
      if (signature.length === 0)
        throw new LabError('bad-state', `lab: cannot read the RRSIG line ${JSON.stringify(line)}`);
      signature[signature.length >> 1]! ^= 0xff;
      return [...fields.slice(0, 12), signature.toString('base64')].join('\t');
    })
    .join('\n');
}
