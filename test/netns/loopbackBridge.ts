/**
 * Reaching the lab (which listens on 127.0.0.1 in the root namespace) from a client namespace,
 * unchanged: the lab's DNS answers 127.0.0.1 for every lab name and the client is given
 * `--resolver 127.0.0.1:PORT`, so the client keeps dialling 127.0.0.1 and the namespace carries
 * that over its links to the root namespace:
 *
 *   client namespace                                 root namespace
 *   connect 127.0.0.1:P ── DNAT to ROOT:P ── veth ──▶ forwarder on ROOT:P ──▶ 127.0.0.1:P (the lab)
 *   (route_localnet=1; source 127.0.0.1 masqueraded to the link's address)
 *
 * - `routeLoopbackTo(ns, rootAddress)`: in the namespace, `iptables -t nat OUTPUT -d 127.0.0.1
 *   -j DNAT --to-destination ROOT` (TCP and UDP, ports kept), `POSTROUTING -s 127.0.0.1 ! -o lo
 *   -j MASQUERADE`, and `net.ipv4.conf.all.route_localnet=1` (else the kernel drops a packet with
 *   a loopback source on a real link). Everything goes with the namespace.
 * - `LoopbackForwarder`: in the test process (root namespace), a TCP relay per port and a UDP
 *   relay per port (DNS) on ROOT, each to 127.0.0.1 on the same port. Nothing changes in the root
 *   namespace's routing or iptables, so nothing outlives the test.
 *
 * Faults (DROP, loss, links going down, roaming) act on the namespace's links, between the client
 * and the forwarder: the forwarder's own connections to the lab stay up, as a NAT on the path
 * would keep them (the server notices a dead client by its own timeouts and pings).
 */
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import type { NetNamespace } from './netNamespace.ts';

/** Makes the namespace send whatever it addresses to 127.0.0.1 (TCP and UDP) to `rootAddress`. */
export function routeLoopbackTo(ns: NetNamespace, rootAddress: string): void {
  ns.exec('sysctl', '-q', '-w', 'net.ipv4.conf.all.route_localnet=1');
  for (const proto of ['tcp', 'udp']) {
    ns.exec(
      'iptables',
      '-t',
      'nat',
      '-A',
      'OUTPUT',
      '-d',
      '127.0.0.1/32',
      '-p',
      proto,
      '-j',
      'DNAT',
      '--to-destination',
      rootAddress,
    );
  }
  ns.exec('iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', '127.0.0.1/32', '!', '-o', 'lo', '-j', 'MASQUERADE');
}

/** How long a UDP client (address:port) may be silent before its relay socket is closed. */
const UDP_IDLE_MS = 30_000;

/**
 * TCP and UDP relays from `address:port` to `127.0.0.1:port` for each port given. `close()` MUST
 * be called (in `after`): it ends every relayed connection.
 */
export class LoopbackForwarder {
  readonly address: string;
  private readonly servers: Server[] = [];
  private readonly udp: UdpSocket[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly udpClients = new Map<string, { upstream: UdpSocket; timer: NodeJS.Timeout }>();
  /** Connections accepted so far, per port (a reconnecting client shows up here). */
  readonly accepted = new Map<number, number>();

  private constructor(address: string) {
    this.address = address;
  }

  static async start(
    address: string,
    ports: { tcp: readonly number[]; udp: readonly number[] },
  ): Promise<LoopbackForwarder> {
    const f = new LoopbackForwarder(address);
    try {
      for (const port of ports.tcp) await f.relayTcp(port);
      for (const port of ports.udp) await f.relayUdp(port);
    } catch (err) {
      await f.close();
      throw err;
    }
    return f;
  }

  private async relayTcp(port: number): Promise<void> {
    const server = createServer((client) => {
      this.accepted.set(port, (this.accepted.get(port) ?? 0) + 1);
      const upstream = createConnection({ host: '127.0.0.1', port });
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.once('close', () => this.sockets.delete(s));
      }
      // One side failing or ending ends the other: a relay holds no state of its own.
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    });
    server.listen(port, this.address);
    this.servers.push(server);
    await once(server, 'listening');
  }

  private async relayUdp(port: number): Promise<void> {
    const front = createSocket('udp4');
    front.on('message', (msg, from) => {
      const key = `${from.address}:${from.port}:${port}`;
      let entry = this.udpClients.get(key);
      if (!entry) {
        // One upstream socket per client, so replies find their way back; only the lab's
        // server on 127.0.0.1:port answers on it.
        const upstream = createSocket('udp4');
        upstream.on('message', (reply, src) => {
          if (src.address === '127.0.0.1' && src.port === port) front.send(reply, from.port, from.address);
        });
        upstream.on('error', () => this.dropUdp(key));
        entry = { upstream, timer: setTimeout(() => this.dropUdp(key), UDP_IDLE_MS) };
        this.udpClients.set(key, entry);
      } else {
        entry.timer.refresh();
      }
      entry.upstream.send(msg, port, '127.0.0.1');
    });
    front.bind(port, this.address);
    this.udp.push(front);
    await once(front, 'listening');
  }

  private dropUdp(key: string): void {
    const entry = this.udpClients.get(key);
    if (!entry) return;
    this.udpClients.delete(key);
    clearTimeout(entry.timer);
    entry.upstream.close();
  }

  /** Ends every relayed connection and stops listening. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    for (const key of [...this.udpClients.keys()]) this.dropUdp(key);
    for (const u of this.udp) u.close();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
