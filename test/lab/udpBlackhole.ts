import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { LabError } from './labError.ts';

export interface UdpBlackhole {
  readonly port: number;
  /** Datagrams swallowed so far (tests may check that a client did try). */
  readonly swallowed: () => number;
  stop(): Promise<void>;
}

/**
 * A UDP socket on 127.0.0.1:`port` that reads every datagram and answers none: a network that
 * blocks UDP without telling (no ICMP port unreachable, which a closed port would send and a
 * client could take as a fast failure). udp-blocked.test's `_xmppq-client._udp` SRV points here.
 * The caller MUST call `stop()`.
 */
export async function startUdpBlackhole(port: number): Promise<UdpBlackhole> {
  const socket = createSocket('udp4');
  let swallowed = 0;
  socket.on('message', () => void swallowed++);
  const failed = once(socket, 'error').then(([error]) => error as Error);
  socket.bind(port, '127.0.0.1');
  const outcome = await Promise.race([once(socket, 'listening').then(() => null), failed]);
  if (outcome !== null) {
    throw new LabError('port-in-use', `lab: the UDP blackhole cannot bind 127.0.0.1:${port}: ${outcome.message}`, {
      cause: outcome,
    });
  }
  // Later errors (none are expected on a socket that never sends) must not crash the lab.
  socket.on('error', (error) => console.error('lab: UDP blackhole:', error));
  return {
    port,
    swallowed: () => swallowed,
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
