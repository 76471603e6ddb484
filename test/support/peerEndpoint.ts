/**
 * The QUIC endpoints of peer processes that tests start in other network namespaces
 * (test/support/quicPeer.ts, test/netns/quicStreamPeer.ts): bound to 0.0.0.0 on an ephemeral
 * port, ALPN xmpp-client, the test certificate on the server and a client that trusts any server
 * (these peers test transport, not identity).
 */
import { QuicEndpoint } from '../../app/quic/driver/quicEndpoint.ts';
import type { QuicConnectionHandle } from '../../app/quic/driver/quicConnectionHandle.ts';
import { testCertificate } from './quicPair.ts';

const ALPN = 'xmpp-client';

/** A server endpoint; `onConnection` gets every connection it accepts. */
export async function listeningPeer(onConnection: (conn: QuicConnectionHandle) => void): Promise<QuicEndpoint> {
  const ep = await QuicEndpoint.bind({ address: '0.0.0.0', port: 0 });
  ep.listen({ alpn: [ALPN], ...testCertificate(), onConnection });
  return ep;
}

/**
 * A client endpoint connecting to HOST:PORT as `quic.example`, accepting whatever certificate the
 * server presents. The connection is returned at once: await `conn.established` for the handshake.
 */
export async function connectingPeer(
  host: string,
  port: number,
): Promise<{ ep: QuicEndpoint; conn: QuicConnectionHandle }> {
  const ep = await QuicEndpoint.bind({ address: '0.0.0.0', port: 0 });
  const conn = ep.connect({ serverName: 'quic.example', alpn: [ALPN], remoteAddress: { address: host, port } });
  conn.on('peer-certificate', () => conn.acceptPeer());
  return { ep, conn };
}
