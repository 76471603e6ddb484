/** A connection's security record as `quiver connect` prints it without --json. */
import type { SecurityRecord } from '../contract/viewModels.ts';
import { escapeControl } from '../logLine.ts';

export function describeRecord(record: SecurityRecord): string {
  const v = record.verification;
  return (
    [
      `connected as ${record.boundJid}`,
      `  transport   ${record.transport} to ${record.host}:${record.port} (${record.srv ?? record.source}, DNSSEC ${record.dnssec})`,
      `  TLS         ${record.tlsVersion} ${record.cipher} ALPN ${record.alpn ?? '-'} SNI ${record.sni}`,
      `  server      ${v.trusted ? 'trusted' : 'NOT trusted'} by ${v.prooftype ?? v.userDecision ?? '-'} (${v.identity ?? '-'})`,
      `  login       ${record.saslMechanism}${record.channelBinding ? ` with ${record.channelBinding} channel binding` : ''}`,
    ]
      // Each line quotes the server (the bound JID, names): only our own line breaks may separate them.
      .map((line) => escapeControl(line))
      .join('\n')
  );
}
