/**
 * The lab inside a network namespace for the 50 ms RTT tables (accounts, reconnect, warm start):
 * start it, delay every client-facing port, measure the RTT a client sees, stop it.
 */
import { fileURLToPath } from 'node:url';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import type { NetNamespace } from '../netns/netNamespace.ts';
import type { LabState } from '../lab/lab.ts';

const LAB = fileURLToPath(new URL('../lab/lab.ts', import.meta.url));
/** Inside our own namespace nothing else listens: a fixed base, away from the root namespace's labs. */
const PORT_BASE = '29000';

/**
 * Starts `node test/lab/lab.ts` inside `ns` and resolves with its lab.json once it printed
 * `QUIVER_LAB=<file>` (everything is up then).
 */
export function startLabIn(ns: NetNamespace): Promise<{ child: ChildProcessWithoutNullStreams; file: string }> {
  const child = ns.spawn(process.execPath, [LAB], { env: { ...process.env, QUIVER_LAB_PORT_BASE: PORT_BASE } });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    // A first start may install the lab's Debian packages.
    const timer = setTimeout(() => fail('did not start within 180 s'), 180_000);
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.off('exit', onExit);
      reject(new Error(`the lab in the namespace ${why}: ${err.trim().slice(-800) || '(no output)'}`));
    };
    const onExit = (code: number | null): void => fail(`exited (${code})`);
    child.once('exit', onExit);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^QUIVER_LAB=(\S+)$/m.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      // Keep reading so a full pipe never blocks the lab.
      child.stdout.resume();
      resolve({ child, file: m[1]! });
    });
  });
}

/** Asks the lab to stop (Ctrl-C: it stops its servers and removes its directory) and waits up to 15 s. */
export async function stopLab(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 15_000)))]);
  clearTimeout(timer);
}

/** The median of five TCP connects from inside `ns` to 127.0.0.1:`port`: the RTT the client sees. */
export function tcpConnectMs(ns: NetNamespace, port: number): number {
  const script = `
    const net = require('node:net');
    const times = [];
    const once = () => new Promise((resolve, reject) => {
      const t0 = performance.now();
      const s = net.connect(${port}, '127.0.0.1', () => { times.push(performance.now() - t0); s.destroy(); resolve(); });
      s.on('error', reject);
    });
    (async () => { for (let i = 0; i < 5; i++) await once(); times.sort((a, b) => a - b); console.log(times[2]); })();`;
  return Number(ns.exec(process.execPath, '-e', script).trim());
}

/**
 * `ms` each way on every port a client uses (the resolver over UDP and TCP, both Prosodys' STARTTLS
 * and direct TLS ports, HTTPS for host-meta and POSH, both QUIC gateways); the server-side hops
 * (a gateway to its Prosody, unbound to nsd) stay instant, as on a real server.
 */
export async function delayClientPorts(ns: NetNamespace, state: LabState, ms: number): Promise<void> {
  const resolverPort = Number(state.resolver.split(':')[1]);
  await ns.delayPorts({
    dev: 'lo',
    ms,
    tcp: [
      resolverPort,
      state.prosody.starttlsPort,
      state.prosody.tlsPort,
      state.prosody13.starttlsPort,
      state.prosody13.tlsPort,
      state.https.port,
    ],
    udp: [resolverPort, state.gateway.port, state.prosody13Gateway.port],
  });
}
