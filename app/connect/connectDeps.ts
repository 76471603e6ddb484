/**
 * Builds what the connector needs for one account from its settings: the DNS client (the account's
 * resolver, else the global one, else the system's), host resolution, and the verifier bound to the
 * trust anchors (system roots plus the extra CAs of the account and of the app), the DNS client
 * (DANE), a POSH source (HTTPS with the same anchors and resolver, cached in storage) and the
 * account's pins.
 */
import type { AccountSettings, SecurityRecord } from '../contract/viewModels.ts';
import type { GlobalSettings } from '../storage/settings.ts';
import type { Storage } from '../storage/storage.ts';
import type { ConnectDeps, TransportMemoryAdvisor } from './connector.ts';
import type { QuicSessions } from './quicSessions.ts';
import { ConnectError } from './connectError.ts';
import { createHostResolver } from './hostResolver.ts';
import type { DnsClient } from '../security/dnsClient.ts';
import { createCachingDnsClient } from '../security/dnsCache.ts';
import { createPoshSource } from '../security/posh.ts';
import { SecurityError } from '../security/securityError.ts';
import { anchorSetKey, type TrustAnchors } from '../security/trustAnchors.ts';
import { cachedVerdict, sharedFetch } from './connectReuse.ts';
import { verifyServer } from '../security/verifier.ts';
import { createDnsClient } from '../security/driver/dnsClient.ts';
import { fetchHttpsJson } from '../security/driver/httpsFetch.ts';
import { loadTrustAnchors } from '../security/driver/systemTrustAnchors.ts';

/** The storage methods the verifier's context reads and writes. */
export type ConnectStorage = Pick<Storage, 'listPins' | 'getPoshEntry' | 'putPoshEntry'>;

export interface ConnectDepsOptions {
  /** Where pins and the POSH cache live. Without it: no pins, POSH fetched on every connection. */
  storage?: ConnectStorage | null;
  /** The account the pins belong to; null (the CLI without an account) means no pins. */
  accountId?: string | null;
  /** SPKI SHA-256 (lowercase hex) of keys the person accepted for the next connection only. */
  acceptOnce?: ReadonlySet<string>;
  /** Whether to try POSH (default true). */
  posh?: boolean;
  /** Port for HTTPS URLs that name none (POSH), instead of 443: the test lab's HTTPS server. */
  httpsPort?: number;
  /** The clock (tests). */
  now?: () => Date;
  /** The process's QUIC session pool, shared by every account (without it QUIC candidates fail). */
  quic?: QuicSessions | null;
  /** Per-network memory of whether QUIC works, bound to the current network. */
  transportMemory?: TransportMemoryAdvisor | null;
}

/**
 * @throws ConnectError `bad-trust-anchor` when an extra CA setting holds no usable certificate,
 *   `dns-bad-server` when a resolver setting is not an address: both name the setting to fix.
 */
export function buildConnectDeps(
  account: AccountSettings,
  global: GlobalSettings,
  saveRecord: (record: SecurityRecord) => void,
  options: ConnectDepsOptions = {},
): ConnectDeps {
  const now = options.now ?? (() => new Date());
  const resolver = account.resolver ?? global.resolver;
  // The AD bit counts from a loopback resolver, or from one the person marked as validating.
  const validates = account.resolver !== null && account.resolverValidates;
  const dns = cachedDnsClientFor(
    resolver,
    validates,
    account.resolver ? "this account's DNS resolver setting" : 'the global DNS resolver setting',
  );
  const anchors = anchorsFor(account.extraCaPem, global.extraCaPem);
  // What else the verifier reads through its context: the resolver behind DANE and DNSSEC (and
  // whether its AD bit counts), and POSH (on or off, and the HTTPS port it fetches from).
  const verifierScope = JSON.stringify([resolver, validates, options.posh !== false, options.httpsPort ?? null]);
  /** A and AAAA together; one family failing (an AAAA timeout) does not lose the other. */
  const addresses = async (name: string): Promise<string[]> => {
    const results = await Promise.allSettled([dns.query(name, 'A'), dns.query(name, 'AAAA')]);
    const found = results.flatMap((r) => (r.status === 'fulfilled' ? r.value.records.map(String) : []));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (found.length === 0 && failed) throw failed.reason;
    return found;
  };
  const storage = options.storage ?? null;
  const posh =
    options.posh === false
      ? null
      : createPoshSource({
          anchors,
          resolve: resolver ? addresses : undefined,
          cache: storage,
          now: () => now().getTime(),
          fetchJson: fetchHttpsJson,
          httpsPort: options.httpsPort,
        });
  const hosts = createHostResolver(resolver ? { addresses } : null);
  return {
    dns,
    hosts,
    // XEP-0487 / XEP-0156 documents, over HTTPS checked against the same anchors, names resolved the same way.
    hostMeta: {
      // One fetch per document per minute for every account (several accounts of one domain start
      // together); `signal`: discovery abandons host-meta once SRV has answered, and this caller
      // stops waiting (the shared fetch runs on for the others, bounded by its own timeout).
      json: (url, signal) =>
        sharedFetch(
          `${anchorSetKey(anchors)} ${options.httpsPort ?? ''} ${url}`,
          signal,
          async () =>
            (
              await fetchHttpsJson(url, {
                anchors,
                resolve: (host) => hosts.resolve(host),
                httpsPort: options.httpsPort,
              })
            ).json,
        ),
    },
    httpsPort: options.httpsPort,
    verify: (facts) => {
      const pins = storage && options.accountId ? storage.listPins(options.accountId, facts.domain) : [];
      const context = { anchors, now: now(), dns, posh, pins, acceptOnce: options.acceptOnce };
      return cachedVerdict(facts, { ...context, scope: verifierScope }, () => verifyServer(facts, context));
    },
    saveRecord,
    quic: options.quic ?? null,
    transportMemory: options.transportMemory ?? null,
  };
}

/**
 * One caching client per resolver for the whole process, so TTLs hold across reconnects and
 * accounts (a stub resolver's cache, in effect). Answers are cached by the resolver they came from.
 */
const cachedClients = new Map<string, DnsClient>();

function cachedDnsClientFor(resolver: string | null, validates: boolean, setting: string): DnsClient {
  const key = `${resolver ?? ''} ${validates}`;
  let client = cachedClients.get(key);
  if (!client) {
    client = createCachingDnsClient(dnsClientFor(resolver, validates, setting), { now: Date.now });
    cachedClients.set(key, client);
  }
  return client;
}

function dnsClientFor(resolver: string | null, validates: boolean, setting: string): DnsClient {
  try {
    return createDnsClient(resolver ? { server: resolver, ...(validates ? { trustAd: true } : {}) } : {});
  } catch (error) {
    if (!(error instanceof SecurityError)) throw error;
    throw new ConnectError(
      error.code,
      `${error.message} Fix ${setting}: it must be an IP address with an optional port, like 127.0.0.1:53.`,
    );
  }
}

/** Anchor sets by their extra CAs: one parse per setting, not per connection attempt. */
const anchorSets = new Map<string, TrustAnchors>();

function anchorsFor(accountPem: string | null, globalPem: string | null): TrustAnchors {
  const key = JSON.stringify([accountPem, globalPem]);
  const known = anchorSets.get(key);
  if (known) return known;
  const anchors = parseAnchors(accountPem, globalPem);
  if (anchorSets.size >= 32) anchorSets.clear();
  anchorSets.set(key, anchors);
  return anchors;
}

function parseAnchors(accountPem: string | null, globalPem: string | null): TrustAnchors {
  const check = (pem: string | null, setting: string): void => {
    if (!pem) return;
    try {
      loadTrustAnchors([pem], { includeSystem: false });
    } catch (error) {
      if (!(error instanceof SecurityError)) throw error;
      throw new ConnectError(
        error.code,
        `${setting} cannot be used: ${error.message.replace(/^Extra trust anchor 1 /, 'it ')} Paste the CA certificate in PEM form (-----BEGIN CERTIFICATE-----), or remove the setting.`,
      );
    }
  };
  check(accountPem, "This account's extra CA certificate");
  check(globalPem, 'The global extra CA certificate');
  return loadTrustAnchors([accountPem, globalPem].filter((pem): pem is string => !!pem));
}
