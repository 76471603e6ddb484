/** Helpers for tests that drive `QuicConnectionHandle`s over real sockets. */
import type { QuicConnectionHandle } from '../../app/quic/driver/quicConnectionHandle.ts';

/**
 * Resolves with the datagram size once path MTU discovery has ended on this connection (its
 * `path-mtu` event with `searching: false`), at once if it already has.
 */
export function pathMtuSettled(handle: QuicConnectionHandle): Promise<number> {
  const conn = handle.connection;
  if (conn.stats.mtuProbesSent > 0 && !conn.pathMtuSearching) return Promise.resolve(conn.stats.maxDatagramSize);
  return new Promise((resolve) => {
    const onMtu = (e: { size: number; searching: boolean }): void => {
      if (e.searching) return;
      handle.off('path-mtu', onMtu);
      resolve(e.size);
    };
    handle.on('path-mtu', onMtu);
  });
}
