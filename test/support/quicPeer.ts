/**
 * One end of a QUIC connection in its own process, for tests that put the two ends in different
 * network namespaces (`ip netns exec NS node test/support/quicPeer.ts ...`).
 *
 *   quicPeer.ts server                 listens on 0.0.0.0, echoes every stream, prints {"port":N}
 *   quicPeer.ts client HOST PORT BYTES echoes BYTES, waits for path MTU discovery to settle,
 *                                      prints {"intact":…,"maxDatagramSize":…,"mtuProbesSent":…,…}
 */
import { createHash } from 'node:crypto';
import type { QuicStreamHandle } from '../../app/quic/driver/quicConnectionHandle.ts';
import { pathMtuSettled } from './quicHandles.ts';
import { connectingPeer, listeningPeer } from './peerEndpoint.ts';

const [mode, host, port, bytes] = process.argv.slice(2);

if (mode === 'server') {
  const ep = await listeningPeer((c) => {
    c.on('stream', (s: QuicStreamHandle) => {
      s.on('data', (d: Uint8Array) => s.write(d));
      s.on('end', () => s.end());
    });
  });
  console.log(JSON.stringify({ port: ep.address.port }));
  // Runs until the test kills it.
} else if (mode === 'client' && host && port && bytes) {
  const { ep, conn } = await connectingPeer(host, Number(port));
  await conn.established;
  const data = new Uint8Array(Number(bytes));
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
  const intact = await new Promise<boolean>((resolve) => {
    const s = conn.openStream(true)!;
    const h = createHash('sha256');
    let got = 0;
    s.on('data', (d: Uint8Array) => {
      h.update(d);
      got += d.length;
    });
    s.on('end', () =>
      resolve(got === data.length && h.digest('hex') === createHash('sha256').update(data).digest('hex')),
    );
    s.write(data, true);
  });
  // Discovery may go on after the transfer.
  await pathMtuSettled(conn);
  const { stats } = conn.connection;
  console.log(
    JSON.stringify({
      intact,
      maxDatagramSize: stats.maxDatagramSize,
      mtuProbesSent: stats.mtuProbesSent,
      mtuProbesLost: stats.mtuProbesLost,
      packetsLost: stats.packetsLost,
    }),
  );
  conn.close(0, 'done');
  await ep.close();
} else {
  console.error('usage: quicPeer.ts server | client HOST PORT BYTES');
  process.exit(2);
}
