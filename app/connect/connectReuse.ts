/**
 * What every account's connection attempts may share within a minute, process-wide: a trusted
 * verdict for exactly the same facts, and a host-meta document. Ten accounts of one domain
 * starting together validate one chain and fetch one document, not ten.
 */
import { createHash } from 'node:crypto';
import type { Verdict } from '../contract/viewModels.ts';
import type { PinnedKey } from '../security/pinProof.ts';
import type { ServerFacts } from '../security/serverFacts.ts';
import { anchorSetKey, type TrustAnchors } from '../security/trustAnchors.ts';
import { ConnectError } from './connectError.ts';
import { beforeDeadline } from './deadline.ts';

/** How long a trusted verdict, or a fetched host-meta document, is reused. */
const REUSE_MS = 60_000;

/**
 * Trusted verdicts of the last minute, by everything the verifier reads: the chain, the domain,
 * the SNI, ALPN and transport, how the candidate was found, the anchor set, the resolver (DANE,
 * DNSSEC) and POSH settings, the pins and the keys accepted once. Ten accounts on one QUIC session each run the verifier for their own domain
 * before their stream opens; the same facts need not cost a PKIX path validation (about 12 ms of
 * CPU) ten times. A refusal is never reused: it is rare, and the next try may see a fixed server.
 */
const verdicts = new Map<string, { verdict: Verdict; until: number }>();

export async function cachedVerdict(
  facts: ServerFacts,
  context: {
    anchors: TrustAnchors;
    now: Date;
    pins: readonly PinnedKey[];
    acceptOnce?: ReadonlySet<string>;
    /** The rest of what the verifier's context reads (resolver, DNSSEC trust, POSH), as text. */
    scope: string;
  },
  run: () => Promise<Verdict>,
): Promise<Verdict> {
  const at = context.now.getTime();
  const hash = createHash('sha256');
  for (const der of facts.chain) hash.update(createHash('sha256').update(der).digest());
  const key = JSON.stringify([
    hash.digest('hex'),
    facts.domain,
    facts.sni,
    facts.alpn,
    facts.transport,
    facts.candidate.host,
    facts.candidate.port,
    facts.candidate.source,
    facts.candidate.dnssec,
    facts.candidate.record,
    facts.candidate.hostMetaSni ?? null,
    anchorSetKey(context.anchors),
    context.scope,
    context.pins.map((p) => p.spkiSha256).sort(),
    [...(context.acceptOnce ?? [])].sort(),
  ]);
  const known = verdicts.get(key);
  if (known && known.until > at) return structuredClone(known.verdict);
  const verdict = await run();
  if (verdict.trusted) {
    if (verdicts.size >= 256)
      for (const [k, v] of verdicts) if (v.until <= at || verdicts.size >= 256) verdicts.delete(k);
    verdicts.set(key, { verdict: structuredClone(verdict), until: at + REUSE_MS });
  }
  return verdict;
}

/** Host-meta documents being fetched or fetched within the last minute, by anchor set, port and URL. */
const fetches = new Map<string, { result: Promise<unknown>; until: number }>();

export function sharedFetch(
  key: string,
  signal: AbortSignal | undefined,
  fetch: () => Promise<unknown>,
): Promise<unknown> {
  const now = Date.now();
  let entry = fetches.get(key);
  if (!entry || entry.until <= now) {
    if (fetches.size >= 256) for (const [k, v] of fetches) if (v.until <= now) fetches.delete(k);
    entry = { result: fetch(), until: now + REUSE_MS };
    // Failures are shared too (a 404 answers every account alike); none goes unhandled.
    entry.result.catch(() => undefined);
    fetches.set(key, entry);
  }
  if (!signal) return entry.result;
  return beforeDeadline(entry.result, signal, {
    reason: () => new ConnectError('aborted', 'Host-meta is no longer needed.'),
  });
}
