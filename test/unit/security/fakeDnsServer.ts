/**
 * A scripted DNS server on 127.0.0.1 (UDP and TCP on the same port) for unit tests of the DNS
 * client: each query is handed to the script, which returns the raw messages to send back — hostile
 * ones included. Not a resolver; integration tests use the lab's unbound.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as dnsPacket from 'dns-packet';

export interface ReceivedQuery {
  transport: 'udp' | 'tcp';
  packet: dnsPacket.DecodedPacket;
  raw: Buffer;
}

export type Script = (query: ReceivedQuery) => Buffer[];

export interface FakeDnsServer {
  address: string;
  queries: ReceivedQuery[];
  close(): Promise<void>;
}

export async function startFakeDns(script: Script): Promise<FakeDnsServer> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await tryStart(script);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt > 5) throw error;
    }
  }
}

async function tryStart(script: Script): Promise<FakeDnsServer> {
  const queries: ReceivedQuery[] = [];
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(0, '127.0.0.1', () => resolve());
  });
  const port = udp.address().port;
  udp.on('message', (raw, remote) => {
    const query: ReceivedQuery = { transport: 'udp', packet: dnsPacket.decode(raw), raw };
    queries.push(query);
    for (const reply of script(query)) udp.send(reply, remote.port, remote.address);
  });
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 2 || buffered.length < 2 + buffered.readUInt16BE(0)) return;
      const raw = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
      const query: ReceivedQuery = { transport: 'tcp', packet: dnsPacket.decode(raw), raw };
      queries.push(query);
      for (const reply of script(query)) {
        const framed = Buffer.alloc(2 + reply.length);
        framed.writeUInt16BE(reply.length, 0);
        reply.copy(framed, 2);
        socket.write(framed);
      }
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, '127.0.0.1', () => resolve());
    });
  } catch (error) {
    udp.close();
    throw error;
  }
  return {
    address: `127.0.0.1:${port}`,
    queries,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}

/** A response to `query` with the given answers, flags (RA is always set) and rcode number. */
export function reply(
  query: ReceivedQuery,
  options: {
    answers?: dnsPacket.Answer[];
    flags?: number;
    rcode?: number;
    id?: number;
    question?: dnsPacket.Question;
  } = {},
): Buffer {
  const question = options.question ?? query.packet.questions?.[0];
  return dnsPacket.encode({
    type: 'response',
    id: options.id ?? query.packet.id ?? 0,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (options.flags ?? 0) | (options.rcode ?? 0),
    questions: question ? [question] : [],
    answers: options.answers ?? [],
  });
}
