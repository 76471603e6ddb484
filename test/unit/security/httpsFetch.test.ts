import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fetchHttpsJson } from '../../../app/security/driver/httpsFetch.ts';
import { SecurityError } from '../../../app/security/securityError.ts';
import { loadTrustAnchors } from '../../../app/security/driver/systemTrustAnchors.ts';
import { toPem } from './certFactory.ts';
import { startHttpsServer } from './httpsTestServer.ts';

const resolve = async (host: string): Promise<string[]> => (host.endsWith('.test') ? ['127.0.0.1'] : []);

function isCode(code: string, pattern?: RegExp) {
  return (error: unknown) =>
    error instanceof SecurityError && error.code === code && (!pattern || pattern.test(error.message));
}

test('fetches JSON over HTTPS verified against the given anchors, resolving names with the given resolver', async (t) => {
  const server = await startHttpsServer(t, ['alpha.test']);
  server.routes.set('/doc.json', { body: { hello: 'world' } });
  const anchors = loadTrustAnchors([toPem(server.ca.der)], { includeSystem: false });
  const result = await fetchHttpsJson(`https://alpha.test:${server.port}/doc.json`, { anchors, resolve });
  assert.deepEqual(result, { url: `https://alpha.test:${server.port}/doc.json`, json: { hello: 'world' } });
});

test('httpsPort: URLs without a port go to that port (the lab), and stay as written', async (t) => {
  const server = await startHttpsServer(t, ['alpha.test']);
  server.routes.set('/a', { status: 302, headers: { location: 'https://alpha.test/doc.json' } });
  server.routes.set('/doc.json', { body: { ok: true } });
  const anchors = loadTrustAnchors([toPem(server.ca.der)], { includeSystem: false });
  assert.deepEqual(await fetchHttpsJson('https://alpha.test/a', { anchors, resolve, httpsPort: server.port }), {
    url: 'https://alpha.test/doc.json',
    json: { ok: true },
  });
});

test('a server whose CA is not among the anchors, or whose certificate names another host: https-failed', async (t) => {
  const server = await startHttpsServer(t, ['alpha.test']);
  server.routes.set('/doc.json', { body: {} });
  const untrusted = loadTrustAnchors([toPem((await startHttpsServer(t, ['x.test'])).ca.der)], { includeSystem: false });
  await assert.rejects(
    fetchHttpsJson(`https://alpha.test:${server.port}/doc.json`, { anchors: untrusted, resolve }),
    isCode('https-failed', /certificate Quiver does not trust/),
  );
  const anchors = loadTrustAnchors([toPem(server.ca.der)], { includeSystem: false });
  await assert.rejects(
    fetchHttpsJson(`https://beta.test:${server.port}/doc.json`, { anchors, resolve }),
    isCode('https-failed', /does not trust for beta\.test/),
  );
});

test('only https addresses; a name without addresses fails cleanly', async (t) => {
  const anchors = loadTrustAnchors([toPem((await startHttpsServer(t, ['alpha.test'])).ca.der)], {
    includeSystem: false,
  });
  await assert.rejects(
    fetchHttpsJson('http://alpha.test/doc.json', { anchors, resolve }),
    isCode('https-failed', /not an https address/),
  );
  await assert.rejects(
    fetchHttpsJson('https://nowhere.example/doc.json', { anchors, resolve }),
    isCode('https-failed', /nowhere\.example has no address/),
  );
});

test('redirects: followed to https, refused to http, bounded in number', async (t) => {
  const server = await startHttpsServer(t, ['alpha.test']);
  const anchors = loadTrustAnchors([toPem(server.ca.der)], { includeSystem: false });
  const base = `https://alpha.test:${server.port}`;
  server.routes.set('/a', { status: 302, headers: { location: '/b' } });
  server.routes.set('/b', { status: 301, headers: { location: `${base}/doc.json` } });
  server.routes.set('/doc.json', { body: [1, 2] });
  assert.deepEqual(await fetchHttpsJson(`${base}/a`, { anchors, resolve }), { url: `${base}/doc.json`, json: [1, 2] });
  await assert.rejects(
    fetchHttpsJson(`${base}/a`, { anchors, resolve, maxRedirects: 1 }),
    isCode('https-redirect', /more than 1 times/),
  );
  server.routes.set('/plain', { status: 307, headers: { location: `http://alpha.test:${server.port}/doc.json` } });
  await assert.rejects(fetchHttpsJson(`${base}/plain`, { anchors, resolve }), isCode('https-redirect', /not HTTPS/));
});

test('a body over the limit (declared or streamed) is https-too-large; not JSON is https-bad-json; 404 carries its status', async (t) => {
  const server = await startHttpsServer(t, ['alpha.test']);
  const anchors = loadTrustAnchors([toPem(server.ca.der)], { includeSystem: false });
  const base = `https://alpha.test:${server.port}`;
  server.routes.set('/big', { body: { pad: 'x'.repeat(2000) } });
  await assert.rejects(fetchHttpsJson(`${base}/big`, { anchors, resolve, maxBytes: 1000 }), isCode('https-too-large'));
  server.routes.set('/chunked', { body: { pad: 'x'.repeat(2000) }, headers: { 'transfer-encoding': 'chunked' } });
  await assert.rejects(
    fetchHttpsJson(`${base}/chunked`, { anchors, resolve, maxBytes: 1000 }),
    isCode('https-too-large'),
  );
  server.routes.set('/bad', { body: '{"fingerprints": [' });
  await assert.rejects(fetchHttpsJson(`${base}/bad`, { anchors, resolve }), isCode('https-bad-json'));
  server.routes.set('/latin1', { body: Buffer.from([0x22, 0xe9, 0x22]) });
  await assert.rejects(fetchHttpsJson(`${base}/latin1`, { anchors, resolve }), isCode('https-bad-json'));
  await assert.rejects(
    fetchHttpsJson(`${base}/missing`, { anchors, resolve }),
    (error: unknown) => error instanceof SecurityError && error.code === 'https-failed' && error.httpStatus === 404,
  );
});

test('a server that never answers: https-failed after the timeout', async (t) => {
  const server = await startHttpsServer(t, ['alpha.test']);
  const anchors = loadTrustAnchors([toPem(server.ca.der)], { includeSystem: false });
  server.routes.set('/hang', { hang: true });
  await assert.rejects(
    fetchHttpsJson(`https://alpha.test:${server.port}/hang`, { anchors, resolve, timeoutMs: 150 }),
    isCode('https-failed', /within 150 ms/),
  );
});

test('an abandoned fetch (discovery stopped waiting for host-meta) ends at once, long before its timeout', async (t) => {
  const server = await startHttpsServer(t, ['alpha.test']);
  const anchors = loadTrustAnchors([toPem(server.ca.der)], { includeSystem: false });
  server.routes.set('/hang', { hang: true });
  const controller = new AbortController();
  const started = performance.now();
  const fetching = fetchHttpsJson(`https://alpha.test:${server.port}/hang`, {
    anchors,
    resolve,
    timeoutMs: 60_000,
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(fetching, isCode('https-failed', /no longer needed/));
  assert.ok(performance.now() - started < 30_000, 'it did not wait for its 60 s timeout');
  // Already aborted: rejects without connecting.
  await assert.rejects(
    fetchHttpsJson(`https://alpha.test:${server.port}/hang`, { anchors, resolve, signal: AbortSignal.abort() }),
    isCode('https-failed', /no longer needed/),
  );
});
