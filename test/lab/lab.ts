import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createLabCa, type LabCertificate } from './ca.ts';
import { startDns, type LabDns } from './dns.ts';
import { startProsody, type LabProsody } from './prosody.ts';
import { startProsody13, type LabProsody13 } from './prosody13.ts';
import { startHttpsServer, type LabHttps } from './httpsServer.ts';
import { startLabGateway, type LabGateway } from './gateway.ts';
import { startUdpBlackhole, type UdpBlackhole } from './udpBlackhole.ts';
import { choosePortBase, labPorts, type LabPorts } from './ports.ts';
import { labZones, quicPort } from './zones.ts';
import { HOST_META_JSON_PATH, POSH_DRAFT_PATH, POSH_PATH, wellKnownDocuments } from './wellKnown.ts';
import { LabError } from './labError.ts';
import { labControlPath, startLabControl, type LabControl } from './control.ts';
import { swapSelfSignedKey, SWAPPED_DOMAIN } from './keySwap.ts';
import {
  CERTIFICATES,
  GATEWAY_DEFAULT_CERTIFICATE,
  gatewayCertificates,
  HTTPS_CERTIFICATE,
  MODERN,
  prosody13GatewayCertificates,
  QUIC_MODERN,
  QUIC_SHARED_CERTIFICATE,
  SCENARIOS,
  srvTargetOf,
  type Expectation,
  type QuicSpec,
  type Scenario,
  type ServerRole,
  type ZoneSigning,
} from './scenarios.ts';
import { ensureDebianPackages, LAB_PACKAGES } from '../../scripts/ensureDebianPackages.ts';
import { ensureProsody13 } from '../../scripts/ensureProsody13.ts';

/** What tests need to know about a running lab. Also written as JSON to `${dir}/lab.json`. */
export interface LabState {
  /** Runtime dir (under os.tmpdir()), removed on stop unless QUIVER_LAB_KEEP=1. */
  dir: string;
  /** The private root CA, PEM, and its file: the one trust anchor clients are given. */
  caPem: string;
  caFile: string;
  /**
   * The lab's intermediate CA (issued by the root), PEM. Only nointermediate.test's certificate is
   * issued by it, and no server sends it: a client that adds it can build the path, one that does
   * not finds the intermediate missing.
   */
  intermediateCaPem: string;
  /** "127.0.0.1:PORT" of unbound: pass as the client's resolver. It validates DNSSEC (AD bit). */
  resolver: string;
  /** "127.0.0.1:PORT" of nsd. */
  authoritative: string;
  /**
   * The DS records (presentation format, one line each) unbound has as trust anchors: one per
   * signed zone (secure-hosted.test, dane.test, dane-mismatch.test, bogus.test, quic-dane.test),
   * fresh each start.
   */
  trustAnchors: string[];
  prosody: { starttlsPort: number; tlsPort: number; plainPort: number };
  /**
   * Prosody 13 (bookworm-backports, beside 0.12) for `domain` (modern.test; accounts alice, bob,
   * carol, alice and bob with each other in their rosters): STARTTLS on `starttlsPort`, direct
   * TLS (ALPN xmpp-client) on `tlsPort`, both named by modern.test's SRV records; a lab-CA
   * certificate with DNS-ID, SRV-ID and XmppAddr. It offers XEP-0388 SASL2 (PLAIN, SCRAM) with
   * XEP-0386 Bind2 inline (carbons, CSI, SM inline), XEP-0484 FAST (HT-SHA-256-*, when the stream
   * header carries from='user@modern.test'), SM resumption inline, XEP-0474 downgrade protection,
   * and legacy SASL + bind for older clients; XEP-0198, carbons, MAM, CSI. `version`: "13.0.1".
   */
  prosody13: { starttlsPort: number; tlsPort: number; domain: 'modern.test'; version: string };
  /**
   * The HTTPS server for POSH and host-meta, on 127.0.0.1. Lab domains resolve to 127.0.0.1, but
   * the server is not on 443: clients fetch `https://<domain>:<port>/...` by passing this port as
   * their `httpsPort` override, which applies to every HTTPS URL they fetch for the lab (also POSH
   * `url` references, which name no port). Its certificate is from the lab CA and names every
   * scenario domain.
   */
  https: { port: number };
  /**
   * `quiver gateway` (XEP-0467, in the lab process) on UDP 127.0.0.1:`port`, ALPN `xmpp-client`.
   * It holds `certificates`, in order, and presents the first whose DNS-IDs name the client's SNI,
   * else the first: the lab-CA certificate named `certificate` (whose names are `domain`'s:
   * DNS-ID, SRV-ID, XmppAddr), so any SNI no other certificate names still gets alpha.test's.
   * Each bidirectional stream becomes one TCP connection to the TLS Prosody's plaintext loopback
   * port `backendPort`, where sessions count as secure and no STARTTLS is offered (every
   * VirtualHost of the TLS Prosody is there). `logFile` holds one JSON line per gateway record.
   *
   * A test that needs a gateway of its own (other limits, e.g. `maxStreamsPerConnection: 1`)
   * starts a `QuicGateway` in its process on port 0, forwarding to `backendPort`, with the files
   * of `shared` (or of `certificates`; `labGatewayCertificate` in test/support/lab.ts reads them).
   */
  gateway: {
    address: string;
    port: number;
    domain: 'alpha.test';
    certificate: string;
    backendPort: number;
    logFile: string;
    /** Every certificate the gateway holds, in the order it tries them; the first is its default. */
    certificates: LabGatewayCertificate[];
    /** The certificate naming quic-a.test and quic-b.test (DNS-IDs), presented for both SNIs. */
    shared: LabGatewayCertificate;
  };
  /**
   * The second `quiver gateway` (in the lab process, as `gateway`) on UDP 127.0.0.1:`port`, in
   * front of Prosody 13: each stream becomes one TCP connection to Prosody 13's plaintext loopback
   * port `backendPort`, where sessions count as secure (the same lab module as 0.12's) and SASL2,
   * Bind 2 and FAST are offered as on its direct TLS port. quic-modern.test's `_xmppq-client._udp`
   * SRV points here; it presents `certificate` (quic-modern.test's, lab CA) for every SNI.
   * Over it FAST is offered without channel binding (Prosody sees no TLS), i.e. HT-SHA-256-NONE.
   */
  prosody13Gateway: {
    address: string;
    port: number;
    domain: 'quic-modern.test';
    certificate: string;
    backendPort: number;
    logFile: string;
  };
  /**
   * A UDP socket on 127.0.0.1:`port` that reads and drops every datagram (UDP blocked, no ICMP):
   * udp-blocked.test's `_xmppq-client._udp` SRV points here.
   */
  udpBlackhole: { address: string; port: number };
  /**
   * The lab's control socket (control.ts): `labControl(lab.control, 'restart prosody')` restarts
   * the TLS Prosody 0.12 (alpha.test ...), `'restart prosody13'` Prosody 13 (modern.test), on the
   * same data and ports, and resolves once it answers again. For fault tests.
   */
  control: string;
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
    /** The hosting provider; SRV target xmpp.provider.test; certificate names only those two. */
    provider: 'provider.test';
    /** Delegated by (insecure) SRV to xmpp.provider.test; proved by POSH. */
    hosted: 'hosted.test';
    /** As hosted.test, its POSH document a `url` reference to provider.test's. */
    hostedUrl: 'hosted-url.test';
    /** As hosted.test, its POSH document only at the drafts' path `/.well-known/posh._xmpp-client._tcp.json`. */
    hostedDraft: 'hosted-draft.test';
    /** Delegated by a DNSSEC-secure SRV to xmpp.provider.test; no POSH. */
    secureHosted: 'secure-hosted.test';
    /** Signed; self-signed certificate; matching TLSA 3 1 1 on both ports: DANE-EE. */
    dane: 'dane.test';
    /** Signed; valid CA certificate; TLSA that matches nothing: refuse. */
    daneMismatch: 'dane-mismatch.test';
    /** Signed with broken signatures: SERVFAIL. */
    bogus: 'bogus.test';
    /** Unsigned zone with a non-matching TLSA (to be ignored); valid certificate: PKIX. */
    unsignedTlsa: 'unsigned-tlsa.test';
    /** Self-signed certificate, no DANE: ask the person. */
    selfsigned: 'selfsigned.test';
    /** CA-signed certificate whose notAfter has passed. */
    expired: 'expired.test';
    /** Leaf from the intermediate CA, sent without it. */
    nointermediate: 'nointermediate.test';
    /** No SRV; XEP-0487 host-meta.json with a direct TLS link, sni xmpp.provider.test. */
    hostmeta: 'hostmeta.test';
    /** QUIC SRV to the gateway, whose certificate for this SNI also names quic-b.test; 5 accounts. */
    quicA: 'quic-a.test';
    /** As quic-a.test, the other name of the same gateway certificate. */
    quicB: 'quic-b.test';
    /** QUIC SRV to the gateway, whose certificate for this SNI names only quic-solo.test. */
    quicSolo: 'quic-solo.test';
    /** Signed; QUIC SRV to the gateway (self-signed for this SNI), matching TLSA at _<port>._udp: DANE-EE. */
    quicDane: 'quic-dane.test';
    /** QUIC SRV to the UDP blackhole, TCP SRV to Prosody (CA certificate): TCP wins. */
    udpBlocked: 'udp-blocked.test';
    /** Served by Prosody 13 (`prosody13`): SASL2, Bind2, FAST; SRV to its own ports. */
    modern: 'modern.test';
    /** Prosody 13 as modern.test, and QUIC SRV to the second gateway (`prosody13Gateway`); 10 accounts. */
    quicModern: 'quic-modern.test';
  };
  /** Every scenario by domain: how it is wired and what the verifier should conclude. */
  scenarios: Record<string, LabScenario>;
  /** Every certificate the lab issued, by CertificateSpec.name (e.g. "provider.test"). */
  certificates: Record<
    string,
    { pem: string; derSha256Base64: string; derSha512Base64: string; spkiSha256Hex: string }
  >;
}

/** One certificate of the lab gateway: files a test's own gateway can load, and the names it covers. */
export interface LabGatewayCertificate {
  /** CertificateSpec.name, a key of `certificates`. */
  name: string;
  /** PEM, the leaf only (lab root CA, or self-signed for quic-dane.test). */
  certFile: string;
  /** PEM private key (PKCS#8), owned by Prosody's user; the lab process (root) reads it. */
  keyFile: string;
  /** Its subjectAltName DNS-IDs: the SNIs it is presented for. */
  dnsIds: string[];
}

/** The QUIC side of a scenario (`_xmppq-client._udp` SRV). */
export interface LabQuicScenario {
  /** 'gateway': the lab's `quiver gateway`; 'blackhole': swallows every datagram. */
  endpoint: QuicSpec['endpoint'];
  /** Where the SRV record points: 127.0.0.1 and the gateway's or the blackhole's UDP port. */
  address: string;
  port: number;
  /** The SRV target (`xmpp.<domain>`). */
  srvTarget: string;
  /** CertificateSpec.name the gateway presents for SNI = the domain; null for the blackhole. */
  certificate: string | null;
  /** TLSA at `_<port>._udp.<srvTarget>`: none, or matching / not matching `certificate`'s key. */
  tlsa: 'none' | 'matching' | 'not-matching';
  /** What the verifier should conclude about the QUIC handshake; null when none completes. */
  expected: Expectation | null;
  /** The transport an account of this domain should end up on when it may use either. */
  winner: 'quic' | 'tcp';
}

/** One row of SCENARIOS as tests see it. */
export interface LabScenario {
  domain: string;
  purpose: string;
  server: ServerRole;
  /** CertificateSpec.name the server presents for this domain, null without a TLS server. */
  certificate: string | null;
  signing: ZoneSigning;
  /** Target of the SRV records (without trailing dot), null when the zone has none. */
  srvTarget: string | null;
  /** Whether TLSA records exist and whether they match the presented certificate's key. */
  tlsa: 'none' | 'matching' | 'not-matching';
  /** URLs (without the lab port) of the POSH and host-meta documents served for this domain. */
  posh: string | null;
  hostMeta: string | null;
  users: string[];
  /** What the verifier should conclude about the TCP paths (STARTTLS, direct TLS). */
  expected: Expectation | null;
  /** `_xmppq-client._udp` SRV and what answers it; null: no QUIC record (auto mode uses TCP). */
  quic: LabQuicScenario | null;
}

export type RunningLab = LabState & { stop(): Promise<void> };

/**
 * Starts the whole lab on loopback: a fresh root and intermediate CA, signed zones with fresh keys,
 * nsd + validating unbound, two Prosody 0.12 instances and a Prosody 13, the HTTPS server and the QUIC gateway. The caller MUST call
 * `stop()` (also on failure paths); it kills every process group, closes the HTTPS server and
 * removes the dir. If start-up fails, everything started so far is stopped and a LabError naming
 * the failed server, with its log tail, is thrown.
 */
export async function startLab(opts: { basePort?: number; dir?: string } = {}): Promise<RunningLab> {
  await ensureDebianPackages(LAB_PACKAGES);
  const prosody13Install = ensureProsody13();
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
  let prosody13: LabProsody13 | undefined;
  let https: LabHttps | undefined;
  let gateway: LabGateway | undefined;
  let gateway13: LabGateway | undefined;
  let blackhole: UdpBlackhole | undefined;
  let control: LabControl | undefined;
  /** What lab.json holds, once written (`swap-key selfsigned` updates it). */
  let written: LabState | undefined;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Control first: no restart may start while the servers go. Then the gateway: closing it
    // closes its backend connections while Prosody still runs.
    await control?.close();
    await gateway?.stop();
    await gateway13?.stop();
    await Promise.all([dns?.stop(), prosody?.stop(), prosody13?.stop(), https?.stop(), blackhole?.stop()]);
    if (process.env.QUIVER_LAB_KEEP !== '1') await rm(dir, { recursive: true, force: true });
  };

  try {
    const ca = await createLabCa(dir, CERTIFICATES);
    const issued = (name: string): LabCertificate => {
      const cert = ca.certs.get(name);
      if (!cert) throw new LabError('bad-state', `lab: no certificate named ${name} was issued`);
      return cert;
    };
    const httpsCert = issued(HTTPS_CERTIFICATE);
    const results = await Promise.allSettled([
      startDns({
        labDir: dir,
        authoritativePort: ports.authoritative,
        resolverPort: ports.resolver,
        zones: labZones(ports, (name) => issued(name).spkiSha256Hex),
      }),
      startProsody({ labDir: dir, ports, ca, users }),
      startProsody13({ labDir: dir, ports, ca, users, install: prosody13Install }),
      startHttpsServer({
        port: ports.https,
        certFile: httpsCert.certFile,
        keyFile: httpsCert.keyFile,
        documents: wellKnownDocuments(ports, ca.certs),
      }),
    ] as const);
    // Keep whichever started, so the catch below stops it when another failed.
    const [dnsResult, prosodyResult, prosody13Result, httpsResult] = results;
    if (dnsResult.status === 'fulfilled') dns = dnsResult.value;
    if (prosodyResult.status === 'fulfilled') prosody = prosodyResult.value;
    if (prosody13Result.status === 'fulfilled') prosody13 = prosody13Result.value;
    if (httpsResult.status === 'fulfilled') https = httpsResult.value;
    for (const r of results) if (r.status === 'rejected') throw r.reason;
    if (!dns || !prosody || !prosody13) throw new LabError('bad-state', 'lab: DNS or Prosody did not start'); // unreachable
    const gatewayCerts = gatewayCertificates().map((name) => ({ name, ...issued(name) }));
    gateway = await startLabGateway({ labDir: dir, ports, certificates: [gatewayCerts[0]!, ...gatewayCerts.slice(1)] });
    const gateway13Certs = prosody13GatewayCertificates().map((name) => ({ name, ...issued(name) }));
    if (gateway13Certs.length === 0) throw new LabError('bad-state', 'lab: no QUIC scenario on Prosody 13');
    gateway13 = await startLabGateway({
      labDir: dir,
      ports,
      certificates: [gateway13Certs[0]!, ...gateway13Certs.slice(1)],
      backend: 'prosody13',
    });
    blackhole = await startUdpBlackhole(ports.udpBlackhole);
    const labGatewayCertificate = (c: (typeof gatewayCerts)[number]): LabGatewayCertificate => ({
      name: c.name,
      certFile: c.certFile,
      keyFile: c.keyFile,
      dnsIds: [...(CERTIFICATES.find((spec) => spec.name === c.name)?.dnsIds ?? [])],
    });
    const shared = gatewayCerts.find((c) => c.name === QUIC_SHARED_CERTIFICATE);
    if (!shared) throw new LabError('bad-state', `lab: the gateway holds no ${QUIC_SHARED_CERTIFICATE} certificate`);
    const running = { prosody, prosody13 };
    control = await startLabControl(labControlPath(dir), {
      'restart prosody': () => running.prosody.restartTls(),
      'restart prosody13': () => running.prosody13.restart(),
      'swap-key selfsigned': async () => {
        const renewed = await swapSelfSignedKey({
          ca,
          restartProsody: () => running.prosody.restartTls(),
          prosody: () => running.prosody.tls,
          tlsPort: ports.tls,
        });
        // lab.json lists the key now presented (tests read it again, or take it from the connection).
        if (!written) return;
        written.certificates[SWAPPED_DOMAIN] = {
          pem: renewed.pem,
          derSha256Base64: renewed.derSha256Base64,
          derSha512Base64: renewed.derSha512Base64,
          spkiSha256Hex: renewed.spkiSha256Hex,
        };
        await writeFile(labStateFile(dir), JSON.stringify(written, null, 2) + '\n');
      },
    });
    const state: LabState = {
      dir,
      caPem: ca.caPem,
      caFile: ca.caFile,
      intermediateCaPem: ca.intermediatePem,
      resolver: `127.0.0.1:${ports.resolver}`,
      authoritative: `127.0.0.1:${ports.authoritative}`,
      trustAnchors: [...dns.trustAnchors],
      prosody: { starttlsPort: ports.starttls, tlsPort: ports.tls, plainPort: ports.plain },
      prosody13: {
        starttlsPort: ports.prosody13Starttls,
        tlsPort: ports.prosody13Tls,
        domain: MODERN,
        version: prosody13.version,
      },
      https: { port: ports.https },
      gateway: {
        address: '127.0.0.1',
        port: gateway.gateway.address.port,
        domain: 'alpha.test',
        certificate: GATEWAY_DEFAULT_CERTIFICATE,
        backendPort: ports.gatewayBackend,
        logFile: gateway.logFile,
        certificates: gatewayCerts.map(labGatewayCertificate),
        shared: labGatewayCertificate(shared),
      },
      prosody13Gateway: {
        address: '127.0.0.1',
        port: gateway13.gateway.address.port,
        domain: QUIC_MODERN,
        certificate: gateway13Certs[0]!.name,
        backendPort: ports.prosody13GatewayBackend,
        logFile: gateway13.logFile,
      },
      udpBlackhole: { address: '127.0.0.1', port: blackhole.port },
      control: labControlPath(dir),
      users,
      domains: {
        alpha: 'alpha.test',
        beta: 'beta.test',
        wrongname: 'wrongname.test',
        plain: 'plain.test',
        nosrv: 'nosrv.test',
        noservice: 'noservice.test',
        provider: 'provider.test',
        hosted: 'hosted.test',
        hostedUrl: 'hosted-url.test',
        hostedDraft: 'hosted-draft.test',
        secureHosted: 'secure-hosted.test',
        dane: 'dane.test',
        daneMismatch: 'dane-mismatch.test',
        bogus: 'bogus.test',
        unsignedTlsa: 'unsigned-tlsa.test',
        selfsigned: 'selfsigned.test',
        expired: 'expired.test',
        nointermediate: 'nointermediate.test',
        hostmeta: 'hostmeta.test',
        quicA: 'quic-a.test',
        quicB: 'quic-b.test',
        quicSolo: 'quic-solo.test',
        quicDane: 'quic-dane.test',
        udpBlocked: 'udp-blocked.test',
        modern: MODERN,
        quicModern: QUIC_MODERN,
      },
      scenarios: Object.fromEntries(SCENARIOS.map((s) => [s.domain, labScenario(s, ports)])),
      certificates: Object.fromEntries(
        [...ca.certs].map(([name, c]) => [
          name,
          {
            pem: c.pem,
            derSha256Base64: c.derSha256Base64,
            derSha512Base64: c.derSha512Base64,
            spkiSha256Hex: c.spkiSha256Hex,
          },
        ]),
      ),
    };
    await writeFile(labStateFile(dir), JSON.stringify(state, null, 2) + '\n');
    written = state;
    return { ...state, stop };
  } catch (err) {
    await stop().catch((stopErr: unknown) => console.error('lab: stopping after a failed start:', stopErr));
    throw err;
  }
}

function labScenario(s: Scenario, ports: LabPorts): LabScenario {
  const hasSrv = s.xmppClientSrv || s.xmppsClientSrv || s.quic !== undefined;
  const q = s.quic;
  const quicCertificate = q?.certificate ?? null;
  return {
    domain: s.domain,
    purpose: s.purpose,
    server: s.server,
    certificate: s.certificate ?? null,
    signing: s.signing ?? 'unsigned',
    srvTarget: hasSrv ? srvTargetOf(s) : null,
    tlsa: s.tlsaSpkiOf === undefined ? 'none' : s.tlsaSpkiOf === s.certificate ? 'matching' : 'not-matching',
    posh: s.posh ? `https://${s.domain}${s.posh.draftPath ? POSH_DRAFT_PATH : POSH_PATH}` : null,
    hostMeta: s.hostMetaSni ? `https://${s.domain}${HOST_META_JSON_PATH}` : null,
    users: [...s.users],
    expected: s.expected ?? null,
    quic: q
      ? {
          endpoint: q.endpoint,
          address: '127.0.0.1',
          port: quicPort(q, s.server, ports),
          srvTarget: srvTargetOf(s),
          certificate: quicCertificate,
          tlsa: q.tlsaSpkiOf === undefined ? 'none' : q.tlsaSpkiOf === quicCertificate ? 'matching' : 'not-matching',
          expected: q.expected ?? null,
          winner: q.winner,
        }
      : null,
  };
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
