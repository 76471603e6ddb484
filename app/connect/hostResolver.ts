/**
 * Addresses of a candidate's host. With a configured resolver the lookups go to it (lab names and
 * split-horizon setups exist only there); otherwise the system's resolver (getaddrinfo, so
 * /etc/hosts counts).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from '../contract/ipLiteral.ts';
import { ConnectError } from './connectError.ts';

export interface HostResolver {
  resolve(host: string): Promise<string[]>;
}

/** The part of the DNS client host resolution needs. */
export interface AddressQuery {
  addresses(name: string): Promise<string[]>;
}

export function createHostResolver(dns: AddressQuery | null): HostResolver {
  return {
    async resolve(host) {
      if (isIP(host) !== 0) return [host];
      const found = dns ? await dns.addresses(host) : await systemLookup(host);
      if (found.length === 0)
        throw new ConnectError('host-not-found', `The server name ${host} has no address in DNS.`);
      // Whatever is returned is dialled as is: a name (or a malformed answer's garbage) would be
      // looked up again by the system resolver. The transports check again before the socket.
      const bad = found.find((address) => isIP(address) === 0);
      if (bad !== undefined) {
        throw new ConnectError(
          'host-not-found',
          `The DNS answer for ${host} gave "${bad}", which is not an IP address. Check the DNS server in the account's settings.`,
        );
      }
      return found;
    },
  };
}

async function systemLookup(host: string): Promise<string[]> {
  try {
    return (await lookup(host, { all: true })).map((a) => a.address);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') return [];
    // EAI_AGAIN and the like: the lookup itself failed, which is not the same as "no such name".
    throw new ConnectError(
      'dns-unavailable',
      `Quiver could not look up ${host}: the DNS server did not answer (${code ?? 'error'}). Check the network connection.`,
    );
  }
}
