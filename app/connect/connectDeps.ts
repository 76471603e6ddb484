/**
 * Builds what the connector needs for one account from its settings: the DNS client (the account's
 * resolver, else the global one, else the system's), host resolution, and the verifier bound to the
 * trust anchors (system roots plus the extra CAs of the account and of the app).
 */
import type { AccountSettings, SecurityRecord } from '../contract/viewModels.ts';
import type { GlobalSettings } from '../storage/settings.ts';
import type { ConnectDeps } from './connector.ts';
import { createHostResolver } from './hostResolver.ts';
import { createDnsClient } from '../security/dnsClient.ts';
import { loadTrustAnchors } from '../security/trustAnchors.ts';
import { verifyServer } from '../security/verifier.ts';

export function buildConnectDeps(
  account: AccountSettings,
  global: GlobalSettings,
  saveRecord: (record: SecurityRecord) => void,
): ConnectDeps {
  const resolver = account.resolver ?? global.resolver;
  const dns = createDnsClient(resolver ? { server: resolver } : {});
  const anchors = loadTrustAnchors([account.extraCaPem, global.extraCaPem].filter((p): p is string => !!p));
  return {
    dns,
    hosts: createHostResolver(
      resolver
        ? {
            async addresses(name) {
              const [a, aaaa] = await Promise.all([dns.query(name, 'A'), dns.query(name, 'AAAA')]);
              return [...a.records, ...aaaa.records].map(String);
            },
          }
        : null,
    ),
    verify: (facts) => verifyServer(facts, { anchors, now: new Date() }),
    saveRecord,
  };
}
