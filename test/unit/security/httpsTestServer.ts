/**
 * A tiny HTTPS server on 127.0.0.1 for the POSH and fetcher tests: its own CA (certFactory), a
 * certificate for the names a test asks for, and routes given as literal responses.
 */
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { makeCertificate, toPem, type IssuedCertificate } from './certFactory.ts';

export interface Route {
  status?: number;
  headers?: Record<string, string>;
  /** A string or object (sent as JSON); a Buffer as is. */
  body?: unknown;
  /** Never answer (for the timeout test). */
  hang?: boolean;
}

export interface HttpsTestServer {
  port: number;
  ca: IssuedCertificate;
  /** Path -> response; change it between requests. */
  routes: Map<string, Route>;
  /** Paths requested, in order. */
  hits: string[];
}

/** Certificates are valid around the real clock (the HTTPS stack checks dates against it). */
export async function startHttpsServer(t: TestContext, names: string[]): Promise<HttpsTestServer> {
  const now = Date.now();
  const validity = { notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 86_400_000) };
  const ca = await makeCertificate({ cn: 'POSH Test CA', ca: true, ...validity });
  const leaf = await makeCertificate({
    cn: names[0] ?? 'localhost',
    dnsNames: names,
    ipAddresses: [[127, 0, 0, 1]],
    extKeyUsage: ['1.3.6.1.5.5.7.3.1'],
    issuer: ca,
    ...validity,
  });
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', leaf.keys.privateKey));
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trimEnd()}\n-----END PRIVATE KEY-----\n`;
  const routes = new Map<string, Route>();
  const hits: string[] = [];
  const server = https.createServer({ key, cert: toPem(leaf.der) }, (request, response) => {
    const path = request.url ?? '/';
    hits.push(path);
    const route = routes.get(path) ?? { status: 404, body: 'not found' };
    if (route.hang) return;
    const body = Buffer.isBuffer(route.body)
      ? route.body
      : Buffer.from(typeof route.body === 'string' ? route.body : JSON.stringify(route.body ?? null));
    response.writeHead(route.status ?? 200, { 'content-type': 'application/json', ...route.headers });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as AddressInfo).port, ca, routes, hits };
}
