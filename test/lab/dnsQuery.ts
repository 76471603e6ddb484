import { createSocket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import type { DecodedPacket, RecordType } from 'dns-packet';

export interface DnsReply {
  readonly rcode: string;
  readonly packet: DecodedPacket;
}

/**
 * One DNS query over UDP to `server` ("127.0.0.1:PORT"), for the lab's own readiness probes and
 * for integration tests that check the lab's DNS. Rejects after `timeoutMs` without an answer.
 */
export async function dnsQuery(
  server: string,
  name: string,
  type: RecordType,
  opts: { timeoutMs?: number; dnssecOk?: boolean } = {},
): Promise<DnsReply> {
  const [host, portText] = splitHostPort(server);
  const id = randomInt(0, 0x10000);
  const query = dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    additionals: opts.dnssecOk
      ? [{ type: 'OPT', name: '.', udpPayloadSize: 4096, flags: dnsPacket.DNSSEC_OK } as never]
      : [],
  });
  const socket = createSocket('udp4');
  try {
    return await new Promise<DnsReply>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no DNS answer from ${server} for ${name} ${type} within ${opts.timeoutMs ?? 1000} ms`)),
        opts.timeoutMs ?? 1000,
      );
      socket.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.on('message', (msg) => {
        const packet = dnsPacket.decode(msg);
        if (packet.id !== id) return; // not ours
        clearTimeout(timer);
        resolve({ rcode: (packet as DecodedPacket & { rcode?: string }).rcode ?? 'NOERROR', packet });
      });
      socket.send(query, Number(portText), host);
    });
  } finally {
    socket.close();
  }
}

function splitHostPort(server: string): [string, string] {
  const i = server.lastIndexOf(':');
  if (i < 0) throw new TypeError(`expected "host:port", got ${JSON.stringify(server)}`);
  return [server.slice(0, i), server.slice(i + 1)];
}
