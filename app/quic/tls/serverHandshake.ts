/**
 * The server side of the TLS 1.3 handshake for QUIC (RFC 8446bis §2, §4; RFC 9001 §4, §8): used by
 * our tests, the QUIC gateway and the simulated pair. No client authentication is requested.
 */
import type { KeyObject } from 'node:crypto';
import { Alert, QUIC_PROTOCOL_VIOLATION, fail } from './alerts.ts';
import { cipherSuiteById, DEFAULT_CIPHER_SUITES, type CipherSuiteInfo } from './cipherSuites.ts';
import {
  Ext,
  PSK_DHE_KE,
  TLS13,
  decodeAlpn,
  decodeClientKeyShares,
  decodeCookie,
  decodeOfferedPsks,
  decodePskModes,
  decodeServerName,
  decodeU16List,
  encodeAlpn,
  encodeCookie,
  encodeServerKeyShare,
  encodeU16,
  type Extension,
  type KeyShareEntry,
} from './extensions.ts';
import type { HandshakeIo, HandshakeMessage, RoleMachine } from './handshakeIo.ts';
import { DEFAULT_GROUPS, GROUP_IDS, KeyShare, groupById, type GroupName } from './keyShare.ts';
import { KeySchedule, Transcript, constantTimeEqual, finishedVerifyData, resumptionPsk } from './keySchedule.ts';
import {
  HELLO_RETRY_REQUEST_RANDOM,
  HandshakeType,
  decodeClientHello,
  encodeCertificate,
  encodeCertificateVerify,
  encodeEncryptedExtensions,
  encodeFinished,
  encodeNewSessionTicket,
  encodeServerHello,
  handshakeTypeName,
  type ClientHello,
} from './messages.ts';
import {
  certificateVerifyContent,
  chooseSignatureScheme,
  signCertificateVerify,
  signatureSchemeName,
} from './signatures.ts';
import { MAX_TICKET_LIFETIME_SECONDS, openTicket, sealTicket, type TicketState } from './tickets.ts';
import type { Epoch, TlsServerConfig } from './tlsTypes.ts';
import type { TlsFacts } from '../../transport/tlsFacts.ts';

type State = 'wait_ch' | 'wait_ch2' | 'wait_finished' | 'connected';

const DEFAULT_TICKET_LIFETIME_SECONDS = 7200;

/** The PSK accepted from a ClientHello, with what 0-RTT acceptance needs. */
interface AcceptedPsk {
  psk: Uint8Array;
  state: TicketState;
  identity: Uint8Array;
  obfuscatedTicketAge: number;
}

interface HrrState {
  group: GroupName | null;
  cookie: Uint8Array | null;
}

export class ServerHandshake implements RoleMachine {
  readEpoch: Epoch = 'initial';
  complete = false;
  alpn: string | null = null;
  suite: CipherSuiteInfo | null = null;
  readonly waiting = false;

  private state: State = 'wait_ch';
  private readonly config: TlsServerConfig;
  private readonly io: HandshakeIo;
  private readonly random: (n: number) => Uint8Array;
  private readonly now: () => number;
  private readonly suites: number[];
  private readonly groups: GroupName[];
  private readonly ticketKey: Uint8Array;
  private readonly issueTickets: boolean;
  private readonly transcript = new Transcript();
  private hrr: HrrState | null = null;
  private group: GroupName | null = null;
  private serverName: string | null = null;
  private resumed = false;
  private signatureScheme: number | null = null;
  private schedule: KeySchedule | null = null;
  private clientHs: Uint8Array | null = null;
  private clientApp: Uint8Array | null = null;

  constructor(config: TlsServerConfig, io: HandshakeIo, random: (n: number) => Uint8Array, now: () => number) {
    this.config = config;
    this.io = io;
    this.random = random;
    this.now = now;
    if (config.alpn.length === 0) throw new Error('TlsServerConfig.alpn: RFC 9001 §8.1 requires ALPN');
    this.suites = (config.cipherSuites ?? [...DEFAULT_CIPHER_SUITES]).filter((s) => cipherSuiteById(s) !== undefined);
    this.groups = [...(config.groups ?? DEFAULT_GROUPS)];
    this.issueTickets = config.issueTickets ?? config.ticketKey !== undefined;
    this.ticketKey = config.ticketKey ?? random(32);
  }

  start(): void {
    // The server speaks second.
  }

  acceptPeer(): void {
    throw new Error('acceptPeer() is for the client: the server requests no client certificate');
  }

  handleMessage(m: HandshakeMessage): void {
    if (m.type === HandshakeType.client_hello && (this.state === 'wait_ch' || this.state === 'wait_ch2'))
      return this.onClientHello(m);
    if (m.type === HandshakeType.finished && this.state === 'wait_finished') return this.onFinished(m);
    if (m.type === HandshakeType.key_update)
      fail(Alert.unexpected_message, 'TLS KeyUpdate is forbidden in QUIC (RFC 9001 §6)');
    // RFC 9001 §8.3: "Clients MUST NOT send the EndOfEarlyData message."
    if (m.type === HandshakeType.end_of_early_data)
      fail(Alert.unexpected_message, 'EndOfEarlyData is not used with QUIC', QUIC_PROTOCOL_VIOLATION);
    fail(Alert.unexpected_message, `${handshakeTypeName(m.type)} received in state ${this.state}`);
  }

  private onClientHello(m: HandshakeMessage): void {
    const ch = decodeClientHello(m.body);
    const exts = ch.extensions;
    checkClientHelloBasics(ch);
    if (this.hrr !== null) {
      // §4.1.2: after a HelloRetryRequest the client "MUST send the same ClientHello" except for the
      // listed changes; a cookie we sent must come back (§4.2.2).
      const cookie = exts.get(Ext.cookie);
      if (
        this.hrr.cookie !== null &&
        (cookie === undefined || !constantTimeEqual(decodeCookie(cookie), this.hrr.cookie))
      ) {
        fail(Alert.illegal_parameter, 'second ClientHello does not echo our cookie');
      }
      // §4.2.10: "A client MUST NOT include the "early_data" extension in its followup
      // ClientHello"; §4.1.2 lists what may change, and adding an extension is not among it.
      if (exts.get(Ext.early_data) !== undefined)
        fail(Alert.illegal_parameter, 'second ClientHello after a HelloRetryRequest offers early_data');
    }
    // Cipher suite: the client's preference among ours; after an HRR it must not change (§4.1.4).
    const suiteId = this.suite?.id ?? ch.cipherSuites.find((s) => this.suites.includes(s));
    if (suiteId === undefined) fail(Alert.handshake_failure, 'no cipher suite in common');
    if (!ch.cipherSuites.includes(suiteId))
      fail(Alert.illegal_parameter, 'second ClientHello dropped the cipher suite of the HelloRetryRequest');
    const suite = cipherSuiteById(suiteId) as CipherSuiteInfo;
    this.suite = suite;

    // RFC 9001 §8.1: "The server MUST treat the inability to select a compatible application protocol
    // as a connection error of type 0x0178 (no_application_protocol)."
    const alpnData = exts.get(Ext.application_layer_protocol_negotiation);
    if (alpnData === undefined) fail(Alert.no_application_protocol, 'the client offered no ALPN protocol');
    const offeredAlpn = decodeAlpn(alpnData);
    const alpn = this.config.alpn.find((p) => offeredAlpn.includes(p));
    if (alpn === undefined)
      fail(Alert.no_application_protocol, `no common ALPN protocol (client offered ${offeredAlpn.join(', ')})`);
    // RFC 9001 §8.2: ClientHello "without the quic_transport_parameters extension MUST close the
    // connection with an error of type 0x016d (equivalent to a fatal TLS missing_extension alert)".
    const tp = exts.get(Ext.quic_transport_parameters);
    if (tp === undefined) fail(Alert.missing_extension, 'ClientHello without quic_transport_parameters');
    const sni = exts.get(Ext.server_name);
    this.serverName = sni === undefined ? null : decodeServerName(sni);

    // Key exchange. §9.2: "If containing a "supported_groups" extension, it MUST also contain a
    // "key_share" extension, and vice versa." We offer no psk_ke, so both are mandatory.
    const sgData = exts.get(Ext.supported_groups);
    const ksData = exts.get(Ext.key_share);
    if (sgData === undefined || ksData === undefined)
      fail(Alert.missing_extension, 'ClientHello without supported_groups/key_share');
    const clientGroups = decodeU16List(sgData, 'supported_groups');
    const shares = decodeClientKeyShares(ksData);
    // §4.2.8: "Each KeyShareEntry value MUST correspond to a group offered in the "supported_groups" extension".
    for (const s of shares)
      if (!clientGroups.includes(s.group))
        fail(Alert.illegal_parameter, `key_share for group ${s.group} not in supported_groups`);
    const usable = shares.find((s) => {
      const g = groupById(s.group);
      return g !== undefined && this.groups.includes(g);
    });
    if (this.hrr !== null) {
      // §4.2.8: the client "MUST ... replace the original "key_share" extension with one containing
      // only a new KeyShareEntry for the group indicated in the selected_group field".
      if (this.hrr.group !== null && (shares.length !== 1 || shares[0]?.group !== GROUP_IDS[this.hrr.group])) {
        fail(Alert.illegal_parameter, 'second ClientHello does not carry the key share we asked for');
      }
      if (usable === undefined) fail(Alert.illegal_parameter, 'second ClientHello has no usable key share');
    } else if (usable === undefined || this.config.requireHelloRetry === true) {
      const wanted = this.groups.find(
        (g) => clientGroups.includes(GROUP_IDS[g]) && !shares.some((s) => s.group === GROUP_IDS[g]),
      );
      if (usable === undefined && wanted === undefined)
        fail(Alert.handshake_failure, 'no key exchange group in common');
      return this.sendHelloRetryRequest(m.raw, ch, wanted ?? null);
    }
    const share = usable as KeyShareEntry;
    this.group = groupById(share.group) as GroupName;

    const accepted = this.acceptPsk(ch, m.raw);
    const psk = accepted?.psk ?? null;
    const earlyOffer = exts.get(Ext.early_data);
    // §4.2.10: EarlyDataIndication in a client_hello is Empty.
    if (earlyOffer !== undefined && earlyOffer.length !== 0)
      fail(Alert.decode_error, 'ClientHello early_data is not empty');
    const acceptEarly = earlyOffer !== undefined && accepted !== null && this.acceptEarlyData(accepted, alpn);
    let cert: { certificateChain: Uint8Array[]; privateKey: KeyObject } | null = null;
    let scheme: number | undefined;
    if (psk === null) {
      cert = this.config.selectCertificate?.(this.serverName) ?? {
        certificateChain: this.config.certificateChain,
        privateKey: this.config.privateKey,
      };
      // §4.2.3: "If a server is authenticating via a certificate and the client has not sent a
      // "signature_algorithms" extension, then the server MUST abort the handshake with a "missing_extension" alert".
      const saData = exts.get(Ext.signature_algorithms);
      if (saData === undefined) fail(Alert.missing_extension, 'ClientHello without signature_algorithms');
      scheme = chooseSignatureScheme(cert.privateKey, decodeU16List(saData, 'signature_algorithms'));
      if (scheme === undefined)
        fail(Alert.handshake_failure, 'the client accepts no signature scheme our key can make');
    }
    this.alpn = alpn;
    this.io.emit({ type: 'peer-transport-parameters', data: tp });

    // ServerHello, then the handshake keys.
    const keyShare = KeyShare.generate(this.group, this.random);
    const secret = keyShare.computeSecret(share.keyExchange);
    this.transcript.add(m.raw);
    const clientHelloHash = acceptEarly ? this.transcript.hash(suite.hash) : null;
    const shExts: Extension[] = [
      { type: Ext.supported_versions, data: encodeU16(TLS13) },
      { type: Ext.key_share, data: encodeServerKeyShare({ group: share.group, keyExchange: keyShare.publicKey }) },
    ];
    if (psk !== null) shExts.push({ type: Ext.pre_shared_key, data: encodeU16(0) });
    const sh = encodeServerHello(this.random(32), ch.legacySessionId, suite.id, shExts);
    this.send('initial', sh);
    this.schedule = new KeySchedule(suite.hash, psk);
    this.schedule.setSharedSecret(secret);
    const hs = this.schedule.handshakeTrafficSecrets(this.transcript.hash(suite.hash));
    this.clientHs = hs.client;
    this.io.emit({ type: 'keys', epoch: 'handshake', direction: 'write', suite, secret: hs.server });
    this.io.emit({ type: 'keys', epoch: 'handshake', direction: 'read', suite, secret: hs.client });

    const eeExts: Extension[] = [
      { type: Ext.application_layer_protocol_negotiation, data: encodeAlpn([alpn]) },
      { type: Ext.quic_transport_parameters, data: this.config.transportParameters },
    ];
    // RFC 6066 §3: a server that used the name "SHALL include an extension of type "server_name" ...
    // The "extension_data" field of this extension SHALL be empty." (Not on resumption.)
    if (this.serverName !== null && psk === null) eeExts.push({ type: Ext.server_name, data: new Uint8Array(0) });
    // RFC 9001 §4.6.2: "A server accepts 0-RTT by sending an early_data extension in the
    // EncryptedExtensions"; "A server rejects 0-RTT by sending the EncryptedExtensions without an
    // early_data extension" (and then never has the keys to process 0-RTT packets).
    if (acceptEarly) {
      eeExts.push({ type: Ext.early_data, data: new Uint8Array(0) });
      // §7.1: client_early_traffic_secret = Derive-Secret(Early Secret, "c e traffic", ClientHello).
      this.io.emit({
        type: 'keys',
        epoch: 'early',
        direction: 'read',
        suite,
        secret: this.schedule.clientEarlyTrafficSecret(clientHelloHash as Uint8Array),
      });
    }
    if (earlyOffer !== undefined) this.io.emit({ type: 'early-data', accepted: acceptEarly });
    this.send('handshake', encodeEncryptedExtensions(eeExts));
    if (cert !== null && scheme !== undefined) {
      this.send('handshake', encodeCertificate(new Uint8Array(0), cert.certificateChain));
      const content = certificateVerifyContent('server', this.transcript.hash(suite.hash));
      this.send('handshake', encodeCertificateVerify(scheme, signCertificateVerify(scheme, cert.privateKey, content)));
      this.signatureScheme = scheme;
    }
    this.send('handshake', encodeFinished(finishedVerifyData(suite.hash, hs.server, this.transcript.hash(suite.hash))));
    const app = this.schedule.applicationTrafficSecrets(this.transcript.hash(suite.hash));
    this.clientApp = app.client;
    // RFC 9001 §4.1.4 / §5.7: the server may send 0.5-RTT data, but must not process 1-RTT packets
    // before the handshake completes, so read keys wait for the client Finished.
    this.io.emit({ type: 'keys', epoch: 'application', direction: 'write', suite, secret: app.server });
    this.readEpoch = 'handshake';
    this.state = 'wait_finished';
  }

  private send(epoch: Epoch, message: Uint8Array): void {
    this.transcript.add(message);
    this.io.send(epoch, message);
  }

  private sendHelloRetryRequest(ch1: Uint8Array, ch: ClientHello, group: GroupName | null): void {
    const suite = this.suite as CipherSuiteInfo;
    const cookie = group === null ? this.random(16) : null;
    this.hrr = { group, cookie };
    const exts: Extension[] = [{ type: Ext.supported_versions, data: encodeU16(TLS13) }];
    if (group !== null) exts.push({ type: Ext.key_share, data: encodeU16(GROUP_IDS[group]) });
    if (cookie !== null) exts.push({ type: Ext.cookie, data: encodeCookie(cookie) });
    // §4.4.1: ClientHello1 is replaced by message_hash(Hash(ClientHello1)) once the HRR is sent.
    this.transcript.add(ch1);
    this.transcript.replaceWithMessageHash(suite.hash);
    this.send('initial', encodeServerHello(HELLO_RETRY_REQUEST_RANDOM, ch.legacySessionId, suite.id, exts));
    this.state = 'wait_ch2';
  }

  /**
   * §4.2.10 and §8: whether the early data of a ClientHello whose PSK we accepted is accepted. Only
   * with a configured anti-replay register, never after a HelloRetryRequest, with a ticket issued
   * for 0-RTT under today's configuration, the ticket's cipher suite and ALPN, a fresh ClientHello
   * and a ticket not used for 0-RTT before. The register is asked last, so that a ClientHello
   * refused for another reason does not use the ticket up.
   */
  private acceptEarlyData(accepted: AcceptedPsk, alpn: string): boolean {
    const early = this.config.earlyData;
    const issued = accepted.state.earlyData;
    if (early === undefined || issued === undefined || this.hrr !== null) return false;
    if (!constantTimeEqual(issued.context, early.context)) return false;
    // §4.2.10: the server "MUST verify that the following values are the same as those associated
    // with the selected PSK: The selected TLS version number; The selected cipher suite; The selected ALPN".
    if (accepted.state.cipherSuite !== this.suite?.id || accepted.state.alpn !== alpn) return false;
    // §4.2.10: "a server MUST validate that the ticket age for the selected PSK identity (computed
    // by subtracting ticket_age_add from PskIdentity.obfuscated_ticket_age modulo 2^32) is within
    // a small tolerance of the time since the ticket was issued".
    const now = this.now();
    const clientAge = (accepted.obfuscatedTicketAge - accepted.state.ageAdd) >>> 0;
    if (!early.antiReplay.fresh(clientAge, now - accepted.state.issuedAt)) return false;
    return early.antiReplay.admit(accepted.identity, now);
  }

  /** §4.2.11: validate the first PSK identity we can open; returns the PSK or null (full handshake). */
  private acceptPsk(ch: ClientHello, raw: Uint8Array): AcceptedPsk | null {
    const pskData = ch.extensions.get(Ext.pre_shared_key);
    if (pskData === undefined) return null;
    const offered = decodeOfferedPsks(pskData);
    const modesData = ch.extensions.get(Ext.psk_key_exchange_modes);
    // §4.2.9: "If clients offer "pre_shared_key" without a "psk_key_exchange_modes" extension, servers MUST abort the handshake."
    if (modesData === undefined) fail(Alert.missing_extension, 'pre_shared_key without psk_key_exchange_modes');
    if (!decodePskModes(modesData).includes(PSK_DHE_KE)) return null;
    const suite = this.suite as CipherSuiteInfo;
    // Servers SHOULD NOT validate multiple binders (§4.2.11) and our clients offer one ticket: only
    // identity 0 is considered. A ticket we cannot open or use means a full handshake.
    const first = offered.identities[0];
    const state = first === undefined ? null : openTicket(this.ticketKey, first.identity);
    if (state === null) return null;
    const issuing = cipherSuiteById(state.cipherSuite);
    // §4.6.1: "Any ticket MUST only be resumed with a cipher suite that has the same KDF hash algorithm".
    if (issuing === undefined || issuing.hash !== suite.hash) return null;
    if (this.now() > state.issuedAt + Math.min(state.lifetimeSeconds, MAX_TICKET_LIFETIME_SECONDS) * 1000) return null;
    // §4.6.1 lets us decline PSKs issued under another SNI; the certificate was chosen by SNI.
    if ((state.serverName ?? '').toLowerCase() !== (this.serverName ?? '').toLowerCase()) return null;
    // §4.2.11: "Prior to accepting PSK key establishment, the server MUST validate the corresponding
    // binder value ... If this value is not present or does not validate, the server MUST abort the handshake."
    const truncated = raw.subarray(0, raw.length - offered.bindersLength);
    const binderKey = new KeySchedule(suite.hash, state.psk).resumptionBinderKey();
    const expected = finishedVerifyData(suite.hash, binderKey, this.transcript.hash(suite.hash, [truncated]));
    if (!constantTimeEqual(expected, offered.binders[0] as Uint8Array))
      fail(Alert.decrypt_error, 'PSK binder does not verify');
    this.resumed = true;
    return {
      psk: state.psk,
      state,
      identity: (first as { identity: Uint8Array }).identity,
      obfuscatedTicketAge: (first as { obfuscatedTicketAge: number }).obfuscatedTicketAge,
    };
  }

  private onFinished(m: HandshakeMessage): void {
    const suite = this.suite as CipherSuiteInfo;
    const expected = finishedVerifyData(suite.hash, this.clientHs as Uint8Array, this.transcript.hash(suite.hash));
    // §4.4.4: incorrect Finished -> "decrypt_error".
    if (!constantTimeEqual(expected, m.body)) fail(Alert.decrypt_error, 'client Finished does not verify');
    this.transcript.add(m.raw);
    this.io.emit({
      type: 'keys',
      epoch: 'application',
      direction: 'read',
      suite,
      secret: this.clientApp as Uint8Array,
    });
    this.state = 'connected';
    this.readEpoch = 'application';
    this.complete = true;
    this.io.emit({ type: 'handshake-complete' });
    if (this.issueTickets)
      this.sendTicket(suite, (this.schedule as KeySchedule).resumptionMasterSecret(this.transcript.hash(suite.hash)));
  }

  /** §4.6.1 NewSessionTicket, in the application epoch (RFC 9001 §4.1.3 post-handshake messages). */
  private sendTicket(suite: CipherSuiteInfo, resumptionSecret: Uint8Array): void {
    const lifetime = Math.min(
      this.config.ticketLifetimeSeconds ?? DEFAULT_TICKET_LIFETIME_SECONDS,
      MAX_TICKET_LIFETIME_SECONDS,
    );
    const nonce = Uint8Array.of(0);
    const ageAdd = new DataView((this.random(4) as Uint8Array).slice().buffer).getUint32(0);
    const ticket = sealTicket(
      this.ticketKey,
      {
        cipherSuite: suite.id,
        psk: resumptionPsk(suite.hash, resumptionSecret, nonce),
        alpn: this.alpn,
        serverName: this.serverName,
        issuedAt: this.now(),
        lifetimeSeconds: lifetime,
        ageAdd,
        ...(this.config.earlyData ? { earlyData: { context: this.config.earlyData.context } } : {}),
      },
      this.random(12),
    );
    // RFC 9001 §4.6.1: "the max_early_data_size parameter is repurposed to hold a sentinel value
    // 0xffffffff to indicate that the server is willing to accept QUIC 0-RTT data".
    const exts: Extension[] = this.config.earlyData
      ? [{ type: Ext.early_data, data: Uint8Array.of(0xff, 0xff, 0xff, 0xff) }]
      : [];
    this.io.send('application', encodeNewSessionTicket({ lifetime, ageAdd, nonce, ticket }, exts));
  }

  facts(): TlsFacts | null {
    if (!this.complete || this.suite === null || this.group === null) return null;
    return {
      version: 'TLSv1.3',
      cipher: this.suite.name,
      group: this.group,
      alpn: this.alpn,
      sni: this.serverName ?? '',
      chain: [],
      channelBinding: null,
      resumed: this.resumed,
      signatureScheme: this.signatureScheme === null ? null : signatureSchemeName(this.signatureScheme),
      ech: 'not-available',
    };
  }
}

/** ClientHello checks that do not depend on our configuration (§4.1.2, §4.2.1, §4.2.11, RFC 9001 §8.4). */
function checkClientHelloBasics(ch: ClientHello): void {
  const sv = ch.extensions.get(Ext.supported_versions);
  // §4.2.1: "If this extension is not present, servers which are compliant with this specification
  // and which also support TLS 1.2 MUST negotiate TLS 1.2"; QUIC requires TLS 1.3 (RFC 9001 §4.2).
  if (sv === undefined || !decodeU16List(sv, 'supported_versions', 1).includes(TLS13)) {
    fail(Alert.protocol_version, 'the client does not offer TLS 1.3');
  }
  // §4.1.2: "A server which receives a legacy_version value not equal to 0x0303 MUST abort the
  // handshake with a "protocol_version" alert."
  if (ch.legacyVersion !== 0x0303)
    fail(Alert.protocol_version, `ClientHello legacy_version 0x${ch.legacyVersion.toString(16)}`);
  // §4.1.2: "If a TLS 1.3 ClientHello is received with any other value in this field, the server
  // MUST abort the handshake with an "illegal_parameter" alert."
  if (ch.compressionMethods.length !== 1 || ch.compressionMethods[0] !== 0)
    fail(Alert.illegal_parameter, 'legacy_compression_methods is not [null]');
  // RFC 9001 §8.4: "A server SHOULD treat the receipt of a TLS ClientHello with a non-empty
  // legacy_session_id field as a connection error of type PROTOCOL_VIOLATION."
  if (ch.legacySessionId.length !== 0)
    fail(
      Alert.illegal_parameter,
      'non-empty legacy_session_id (middlebox compatibility mode) in QUIC',
      QUIC_PROTOCOL_VIOLATION,
    );
  // §4.2.11: "Servers MUST check that it is the last extension and otherwise fail the handshake with
  // an "illegal_parameter" alert."
  const list = ch.extensions.list;
  const pskAt = list.findIndex((e) => e.type === Ext.pre_shared_key);
  if (pskAt !== -1 && pskAt !== list.length - 1)
    fail(Alert.illegal_parameter, 'pre_shared_key is not the last extension');
}
