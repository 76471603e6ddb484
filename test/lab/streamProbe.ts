import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket, type ConnectionOptions } from 'node:tls';

/**
 * Opens a client stream to `domain` on a plain TCP port and returns the raw text the server sent
 * up to and including `</stream:features>` (RFC 6120 §4.3.2), or whatever came before the server
 * closed, errored or `timeoutMs` passed. Used for the lab's readiness checks and by its tests.
 * `from` as for `tlsStreamFeatures`.
 */
export async function streamFeatures(port: number, domain: string, timeoutMs = 1000, from?: string): Promise<string> {
  const socket = tcpConnect({ host: '127.0.0.1', port });
  return collectFeatures(socket, domain, timeoutMs, 'connect', true, from);
}

/**
 * The same over direct TLS (XEP-0368): resolves with the TLS socket once the features arrived,
 * so the caller can inspect the certificate and ALPN. The caller must `destroy()` it. `from`
 * puts a `from` attribute on the stream header (RFC 6120 §4.7.1), e.g. the account's bare JID,
 * for which Prosody 13 offers FAST (XEP-0484).
 */
export async function tlsStreamFeatures(
  port: number,
  domain: string,
  tlsOptions: ConnectionOptions,
  timeoutMs = 1000,
  from?: string,
): Promise<{ socket: TLSSocket; features: string }> {
  const socket = tlsConnect({ host: '127.0.0.1', port, servername: domain, ...tlsOptions });
  const features = await collectFeatures(socket, domain, timeoutMs, 'secureConnect', false, from);
  return { socket, features };
}

function collectFeatures(
  socket: Socket,
  domain: string,
  timeoutMs: number,
  readyEvent: 'connect' | 'secureConnect',
  destroy = true,
  from?: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      socket.removeAllListeners('data');
      if (destroy || err) socket.destroy();
      if (err) reject(err);
      else resolve(text);
    };
    const timer = setTimeout(
      () => finish(text ? undefined : new Error(`no stream features within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once(readyEvent, () => {
      socket.write(
        `<?xml version='1.0'?><stream:stream to='${domain}'${from ? ` from='${from}'` : ''} version='1.0' xml:lang='en' ` +
          `xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`,
      );
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('</stream:features>') || text.includes('</stream:stream>')) finish();
    });
    socket.once('error', (err) => finish(err));
    socket.once('close', () => finish(text ? undefined : new Error('connection closed before stream features')));
  });
}
