import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { LabError } from './labError.ts';
import type { WellKnownDocument } from './wellKnown.ts';

export interface HttpsOptions {
  readonly port: number;
  /** PEM files of the server certificate (from the lab CA, naming every host served) and key. */
  readonly certFile: string;
  readonly keyFile: string;
  readonly documents: readonly WellKnownDocument[];
}

export interface LabHttps {
  readonly port: number;
  /** Every request served, "HOST PATH STATUS", for debugging a failing test. */
  readonly requests: readonly string[];
  stop(): Promise<void>;
}

/**
 * The lab's HTTPS server for POSH (RFC 7711) and Host Meta (XEP-0156, XEP-0487) documents, in the
 * lab's own process on 127.0.0.1:`port`. Documents are chosen by the Host header, so one server
 * answers for every lab domain; anything else is 404. Since it is not on 443, clients in tests
 * fetch `https://<domain>:<port>/...` (the discovery and verifier code takes an `httpsPort`
 * override that replaces the default port for every lab URL, POSH `url` references included).
 */
export async function startHttpsServer(opts: HttpsOptions): Promise<LabHttps> {
  const byUrl = new Map<string, string>();
  for (const doc of opts.documents) byUrl.set(`${doc.host}${doc.path}`, JSON.stringify(doc.body, null, 2) + '\n');
  const requests: string[] = [];
  const server: Server = createServer(
    { cert: await readFile(opts.certFile), key: await readFile(opts.keyFile) },
    (req: IncomingMessage, res: ServerResponse) => {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const body = byUrl.get(`${host}${path}`);
      let status: number;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        status = 405;
        res.writeHead(status, { allow: 'GET, HEAD' }).end();
      } else if (body === undefined) {
        status = 404;
        res.writeHead(status, { 'content-type': 'text/plain' }).end('not found\n');
      } else {
        status = 200;
        res.writeHead(status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          // XEP-0487 §3.1 (server administrators): CORS for host-meta, harmless for POSH.
          'access-control-allow-origin': '*',
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      }
      requests.push(`${host} ${path} ${status}`);
    },
  );
  server.listen(opts.port, '127.0.0.1');
  const [outcome] = await Promise.race([once(server, 'listening').then(() => ['ok'] as const), once(server, 'error')]);
  if (outcome !== 'ok') {
    throw new LabError(
      'port-in-use',
      `lab: the HTTPS server cannot listen on 127.0.0.1:${opts.port}: ${(outcome as Error).message}`,
    );
  }
  let stopped = false;
  return {
    port: opts.port,
    requests,
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
