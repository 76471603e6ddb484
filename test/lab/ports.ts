import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { LabError } from './labError.ts';

/**
 * The lab's ports, as fixed offsets from a base so two labs on one machine need only two bases.
 * Offset 5 is the HTTPS server (POSH, host-meta), 6 and 7 the QUIC gateway's backend and front,
 * 8 the UDP blackhole, 9 and 10 the Prosody 13 instance (STARTTLS, direct TLS), 11 and 12 the second
 * QUIC gateway's backend (Prosody 13's plaintext port) and front; 13..19 are reserved.
 */
export interface LabPorts {
  readonly resolver: number; // unbound, UDP and TCP
  readonly authoritative: number; // nsd, UDP and TCP
  readonly starttls: number; // Prosody c2s (STARTTLS)
  readonly tls: number; // Prosody c2s direct TLS (XEP-0368)
  readonly plain: number; // the second Prosody, no STARTTLS
  readonly https: number; // the lab's HTTPS server: POSH and host-meta documents
  readonly gatewayBackend: number; // TLS Prosody's plaintext c2s port on loopback, treated as secure
  readonly quicGateway: number; // `quiver gateway` (UDP), forwarding to gatewayBackend
  readonly udpBlackhole: number; // a UDP socket that reads and drops every datagram (UDP blocked)
  readonly prosody13Starttls: number; // Prosody 13 c2s (STARTTLS): SASL2, Bind2, FAST (modern.test)
  readonly prosody13Tls: number; // Prosody 13 c2s direct TLS (XEP-0368)
  readonly prosody13GatewayBackend: number; // Prosody 13's plaintext c2s port on loopback, treated as secure
  readonly prosody13QuicGateway: number; // the second `quiver gateway` (UDP), forwarding to prosody13GatewayBackend
}

export const PORT_BLOCK_SIZE = 20;
export const DEFAULT_PORT_BASE = 25000;

export function labPorts(base: number): LabPorts {
  return {
    resolver: base,
    authoritative: base + 1,
    starttls: base + 2,
    tls: base + 3,
    plain: base + 4,
    https: base + 5,
    gatewayBackend: base + 6,
    quicGateway: base + 7,
    udpBlackhole: base + 8,
    prosody13Starttls: base + 9,
    prosody13Tls: base + 10,
    prosody13GatewayBackend: base + 11,
    prosody13QuicGateway: base + 12,
  };
}

/**
 * The base to use. An explicit base (option or QUIVER_LAB_PORT_BASE) is used as is and must be
 * free. Without one, the first free block from 25000 up is taken, so several engineers (or test
 * runs) on one machine each get their own lab.
 */
export async function choosePortBase(explicit: number | undefined): Promise<number> {
  const fromEnv = process.env.QUIVER_LAB_PORT_BASE;
  const chosen = explicit ?? (fromEnv ? Number(fromEnv) : undefined);
  if (chosen !== undefined) {
    if (!Number.isInteger(chosen) || chosen < 1024 || chosen > 65535 - PORT_BLOCK_SIZE) {
      throw new LabError(
        'port-in-use',
        `lab: port base ${chosen} is not an integer in 1024..${65535 - PORT_BLOCK_SIZE}`,
      );
    }
    const busy = await busyPorts(labPorts(chosen));
    if (busy.length > 0) {
      throw new LabError(
        'port-in-use',
        `lab: port(s) ${busy.join(', ')} of base ${chosen} are in use (another lab running?). ` +
          'Stop it or choose another base with QUIVER_LAB_PORT_BASE.',
      );
    }
    return chosen;
  }
  for (let i = 0; i < 40; i++) {
    const base = DEFAULT_PORT_BASE + i * PORT_BLOCK_SIZE;
    if ((await busyPorts(labPorts(base))).length === 0) return base;
  }
  throw new LabError('port-in-use', `lab: no free block of ${PORT_BLOCK_SIZE} ports from ${DEFAULT_PORT_BASE} up`);
}

async function busyPorts(ports: LabPorts): Promise<number[]> {
  const busy: number[] = [];
  for (const port of Object.values(ports) as number[]) {
    if (!(await tcpFree(port)) || !(await udpFree(port))) busy.push(port);
  }
  return busy;
}

async function tcpFree(port: number): Promise<boolean> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  const [outcome] = await Promise.race([once(server, 'listening').then(() => ['ok']), once(server, 'error')]);
  if (outcome !== 'ok') return false;
  server.close();
  await once(server, 'close');
  return true;
}

async function udpFree(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  socket.bind(port, '127.0.0.1');
  const [outcome] = await Promise.race([once(socket, 'listening').then(() => ['ok']), once(socket, 'error')]);
  if (outcome !== 'ok') return false; // a socket whose bind failed is already closed
  socket.close();
  return true;
}
