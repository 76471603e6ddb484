/**
 * Path MTU discovery over a real routed path: three network namespaces made for this test,
 *
 *   client ── 1500-byte link ── router ── 1400-byte link ── server
 *
 * The client's interface says 1500, so its ceiling is 1472 bytes of UDP payload; the router
 * drops larger datagrams with Don't Fragment set and answers with ICMP "fragmentation needed".
 * The client must settle at 1372 (what passes whole), not climb into sizes that only arrive
 * because its own kernel, taught by that ICMP, fragments them. The server's own interface is
 * 1400 bytes: it settles at its ceiling, 1372. Needs root and iproute2; skipped otherwise.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

const root = process.getuid?.() === 0;
const haveIp = spawnSync('ip', ['-V']).status === 0;
const skip = root && haveIp ? false : 'needs root and iproute2 (ip netns)';
const PEER = fileURLToPath(new URL('../../support/quicPeer.ts', import.meta.url));

const tag = String(process.pid % 100000);
const ns = { client: `qc${tag}`, router: `qr${tag}`, server: `qs${tag}` };

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

function inNs(name: string, ...args: string[]): void {
  ip('netns', 'exec', name, ...args);
}

describe(
  'path MTU discovery across a router with a smaller link (network namespaces)',
  { skip, timeout: 60_000 },
  () => {
    before(() => {
      for (const n of Object.values(ns)) ip('netns', 'add', n);
      // Addresses from TEST-NET-2 (RFC 5737): they exist only inside these namespaces.
      ip(
        'link',
        'add',
        `qa${tag}`,
        'netns',
        ns.client,
        'type',
        'veth',
        'peer',
        'name',
        `qra${tag}`,
        'netns',
        ns.router,
      );
      ip(
        'link',
        'add',
        `qrb${tag}`,
        'netns',
        ns.router,
        'type',
        'veth',
        'peer',
        'name',
        `qb${tag}`,
        'netns',
        ns.server,
      );
      const link = (n: string, dev: string, cidr: string, mtu: number): void => {
        ip('-n', n, 'addr', 'add', cidr, 'dev', dev);
        ip('-n', n, 'link', 'set', dev, 'mtu', String(mtu), 'up');
      };
      link(ns.client, `qa${tag}`, '198.51.100.2/30', 1500);
      link(ns.router, `qra${tag}`, '198.51.100.1/30', 1500);
      link(ns.router, `qrb${tag}`, '198.51.100.5/30', 1400);
      link(ns.server, `qb${tag}`, '198.51.100.6/30', 1400);
      for (const n of Object.values(ns)) ip('-n', n, 'link', 'set', 'lo', 'up');
      ip('-n', ns.client, 'route', 'add', 'default', 'via', '198.51.100.1');
      ip('-n', ns.server, 'route', 'add', 'default', 'via', '198.51.100.5');
      inNs(ns.router, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
    });

    after(() => {
      for (const n of Object.values(ns)) spawnSync('ip', ['netns', 'del', n]);
    });

    /** Runs the echo from the client namespace; returns what the client's connection discovered. */
    async function run(): Promise<{
      intact: boolean;
      maxDatagramSize: number;
      mtuProbesSent: number;
      mtuProbesLost: number;
    }> {
      const server = spawn('ip', ['netns', 'exec', ns.server, process.execPath, PEER, 'server'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      try {
        const port = await new Promise<number>((resolve, reject) => {
          let out = '';
          server.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            const m = /\{"port":(\d+)\}/.exec(out);
            if (m) resolve(Number(m[1]));
          });
          server.on('exit', (code) => reject(new Error(`server exited (${code})`)));
        });
        const client = spawnSync(
          'ip',
          ['netns', 'exec', ns.client, process.execPath, PEER, 'client', '198.51.100.6', String(port), String(1 << 20)],
          { encoding: 'utf8', timeout: 30_000 },
        );
        assert.equal(client.status, 0, client.stderr);
        return JSON.parse(client.stdout.trim().split('\n').pop()!) as Awaited<ReturnType<typeof run>>;
      } finally {
        server.kill();
      }
    }

    it('settles at what passes whole (1372), after the router refused 1452 with ICMP', async () => {
      const result = await run();
      assert.equal(result.intact, true, 'the echo came back intact');
      assert.equal(result.maxDatagramSize, 1372);
      assert.equal(result.mtuProbesLost, 1, 'the climb stopped at the first lost probe (1452)');
      assert.equal(result.mtuProbesSent, 2);
    });

    it("never probes above the route's MTU (ip route ... mtu 1300): no probe lost, none fragmented", async () => {
      ip('-n', ns.client, 'route', 'replace', 'default', 'via', '198.51.100.1', 'mtu', '1300');
      const result = await run();
      assert.equal(result.intact, true);
      assert.equal(result.maxDatagramSize, 1272);
      assert.deepEqual([result.mtuProbesSent, result.mtuProbesLost], [1, 0]);
    });
  },
);
