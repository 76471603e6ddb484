import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { QuicEndpoint } from '../../../app/quic/quicEndpoint.ts';
import { testCertificate } from '../../support/quicPair.ts';
const ep = await QuicEndpoint.bind();
const extra = process.argv.slice(2);
const BODY = 4 << 20;
ep.listen({ alpn: ['h3'], ...testCertificate(), onConnection: (c) => {
  c.on('stream', (s) => {
    s.on('end', () => {
      if (s.id !== 0) return;
      s.write(Uint8Array.of(0x01, 0x03, 0x00, 0x00, 0xd9));
      const lenBytes = Uint8Array.of(0x80 | ((BODY >>> 24) & 0x3f), (BODY >>> 16) & 0xff, (BODY >>> 8) & 0xff, BODY & 0xff);
      s.write(Uint8Array.of(0x00, ...lenBytes));
      const chunk = new Uint8Array(65536).fill(0x61);
      let sent = 0;
      const pump = () => { while (sent < BODY) { sent += chunk.length; if (!s.write(chunk, sent >= BODY)) { s.once('drain', pump); return; } } };
      pump();
    });
  });
  c.on('migrated', (a) => console.log('migrated', a));
  c.on('path-validated', (a) => console.log('path-validated', a));
  c.on('closed', (i) => console.log('srv closed', i.codeName, i.reason));
  void c.established.then(() => { const ctl = c.openStream(false)!; ctl.write(Uint8Array.of(0x00, 0x04, 0x00)); });
  c.connection; setTimeout(() => console.log('stats', c.connection.stats), 1500);
}});
const child = spawn('gtlsclient', ['--no-quic-dump', '--no-http-dump', '--timeout=5s', '--exit-on-all-streams-close', ...extra, '127.0.0.1', String(ep.address.port), `https://localhost:${ep.address.port}/`], { stdio: ['ignore', 'pipe', 'pipe'] });
let out = ''; child.stdout.on('data', (d) => (out += d)); child.stderr.on('data', (d) => (out += d));
const t0 = performance.now();
const code = await new Promise((r) => child.on('exit', r));
console.log('client exit', code, performance.now() - t0);
writeFileSync('/tmp/ngc.log', out);
await ep.close();
