/**
 * `ConnectDeps` for unit tests whose scripted XMPP servers listen on 127.0.0.1: discovery finds
 * only them, and the verifier trusts whatever they present.
 */
import type { ConnectDeps } from '../../app/connect/connector.ts';
import { TRUSTED } from './verdicts.ts';

/** Which services have a server: its port on 127.0.0.1. Absent or null: the service is declined. */
export interface LoopbackPorts {
  /** `_xmppq-client._udp` (XMPP over QUIC). */
  quic?: number | null;
  /** `_xmpps-client._tcp` (direct TLS, XEP-0368). */
  tls?: number | null;
}

/**
 * SRV answers name 127.0.0.1 for the services in `ports` and decline every other one ("."); no
 * host name but 127.0.0.1 resolves; `verify` returns TRUSTED; records are dropped; no host-meta.
 */
export function loopbackDeps(ports: LoopbackPorts, timeoutMs: number): ConnectDeps {
  const none = { priority: 0, weight: 0, port: 0, target: '.' };
  return {
    dns: {
      srv: async (name) => {
        const port = name.startsWith('_xmppq-client.')
          ? ports.quic
          : name.startsWith('_xmpps-client.')
            ? ports.tls
            : null;
        return {
          rcode: 'NOERROR',
          dnssec: 'insecure',
          records: port == null ? [none] : [{ priority: 0, weight: 0, port, target: '127.0.0.1' }],
        };
      },
    },
    hosts: {
      resolve: async (host) => {
        if (host !== '127.0.0.1') throw new Error(`no lookup of ${host} in this test`);
        return [host];
      },
    },
    verify: async () => TRUSTED,
    saveRecord: () => undefined,
    hostMeta: null,
    timeoutMs,
  };
}
