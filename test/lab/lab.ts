import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createLabCa } from './ca.ts';
import { startDns, type LabDns } from './dns.ts';
import { startProsody, type LabProsody } from './prosody.ts';
import { choosePortBase, labPorts } from './ports.ts';
import { labZones } from './zones.ts';
import { CERTIFICATES, SCENARIOS } from './scenarios.ts';
import { ensureDebianPackages, LAB_PACKAGES } from '../../scripts/ensureDebianPackages.ts';

/** What tests need to know about a running lab. Also written as JSON to `${dir}/lab.json`. */
export interface LabState {
  /** Runtime dir (under os.tmpdir()), removed on stop unless QUIVER_LAB_KEEP=1. */
  dir: string;
  /** The private root CA, PEM, and its file. */
  caPem: string;
  caFile: string;
  /** "127.0.0.1:PORT" of unbound: pass as the client's resolver. */
  resolver: string;
  /** "127.0.0.1:PORT" of nsd. */
  authoritative: string;
  prosody: { starttlsPort: number; tlsPort: number; plainPort: number };
  /** bare JID -> password, e.g. "alice@alpha.test". */
  users: Record<string, string>;
  domains: {
    alpha: 'alpha.test';
    beta: 'beta.test';
    wrongname: 'wrongname.test';
    plain: 'plain.test';
    nosrv: 'nosrv.test';
    /** SRV target "." for both services (RFC 2782): XMPP decidedly not available. */
    noservice: 'noservice.test';
  };
}

export type RunningLab = LabState & { stop(): Promise<void> };

/**
 * Starts the whole lab on loopback: a fresh CA, nsd + unbound, two Prosody instances. The caller
 * MUST call `stop()` (also on failure paths); it kills every process group and removes the dir.
 * If start-up fails, everything started so far is stopped and a LabError naming the failed server,
 * with its log tail, is thrown.
 */
export async function startLab(opts: { basePort?: number; dir?: string } = {}): Promise<RunningLab> {
  await ensureDebianPackages(LAB_PACKAGES);
  const base = await choosePortBase(opts.basePort);
  const ports = labPorts(base);
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'quiver-lab-')));
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o755); // Prosody runs as its own user and must reach its files in here.

  const users: Record<string, string> = {};
  for (const s of SCENARIOS) {
    for (const local of s.users) users[`${local}@${s.domain}`] = randomBytes(12).toString('base64url');
  }

  let dns: LabDns | undefined;
  let prosody: LabProsody | undefined;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all([dns?.stop(), prosody?.stop()]);
    if (process.env.QUIVER_LAB_KEEP !== '1') await rm(dir, { recursive: true, force: true });
  };

  try {
    const ca = await createLabCa(dir, CERTIFICATES);
    const [dnsResult, prosodyResult] = await Promise.allSettled([
      startDns({ labDir: dir, authoritativePort: ports.authoritative, resolverPort: ports.resolver, zones: labZones(ports) }),
      startProsody({ labDir: dir, ports, ca, users }),
    ]);
    // Keep whichever started, so the catch below stops it when the other failed.
    if (dnsResult.status === 'fulfilled') dns = dnsResult.value;
    if (prosodyResult.status === 'fulfilled') prosody = prosodyResult.value;
    if (dnsResult.status === 'rejected') throw dnsResult.reason;
    if (prosodyResult.status === 'rejected') throw prosodyResult.reason;
    const state: LabState = {
      dir,
      caPem: ca.caPem,
      caFile: ca.caFile,
      resolver: `127.0.0.1:${ports.resolver}`,
      authoritative: `127.0.0.1:${ports.authoritative}`,
      prosody: { starttlsPort: ports.starttls, tlsPort: ports.tls, plainPort: ports.plain },
      users,
      domains: {
        alpha: 'alpha.test',
        beta: 'beta.test',
        wrongname: 'wrongname.test',
        plain: 'plain.test',
        nosrv: 'nosrv.test',
        noservice: 'noservice.test',
      },
    };
    await writeFile(labStateFile(dir), JSON.stringify(state, null, 2) + '\n');
    return { ...state, stop };
  } catch (err) {
    await stop().catch((stopErr: unknown) => console.error('lab: stopping after a failed start:', stopErr));
    throw err;
  }
}

/** Where a lab's state is written; the value withLab puts in QUIVER_LAB. */
export function labStateFile(dir: string): string {
  return join(dir, 'lab.json');
}

// `node test/lab/lab.ts`: start a lab for a person, print its state, stop on Ctrl-C.
if (import.meta.main) {
  // Listening from the start: a Ctrl-C during start-up waits for it, then stops the lab.
  const signalled = Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  const lab = await startLab();
  const { stop, ...state } = lab;
  console.log(JSON.stringify(state, null, 2));
  console.log(`\nQUIVER_LAB=${labStateFile(lab.dir)}\nLab running. Ctrl-C stops it.`);
  await signalled;
  await stop();
}
