/**
 * The client side of the TLS 1.3 handshake for QUIC (RFC 8446bis §2, §4; RFC 9001 §4, §8).
 * "RFC 8446bis" and "RFC 9846" are the same document: 9846 is 8446bis as published (specs/rfc9846-tls13.md).
 * Driven by TlsHandshake, which frames messages and checks epochs; this class checks order and content.
 */
import { isIP } from '../../contract/ipLiteral.ts';
import { Alert, QUIC_PROTOCOL_VIOLATION, fail } from './alerts.ts';
import { cipherSuiteById, DEFAULT_CIPHER_SUITES, type CipherSuiteInfo } from './cipherSuites.ts';
import {
  Ext,
  PSK_DHE_KE,
  TLS13,
  decodeAlpn,
  decodeCookie,
  decodeServerKeyShare,
  decodeU16,
  encodeAlpn,
  encodeClientKeyShares,
  encodeCookie,
  encodeOfferedPsks,
  encodeServerName,
  encodeU16List,
  type Extension,
  type Extensions,
} from './extensions.ts';
import type { HandshakeIo, HandshakeMessage, RoleMachine } from './handshakeIo.ts';
import { DEFAULT_GROUPS, GROUP_IDS, KeyShare, groupById, type GroupName } from './keyShare.ts';
import {
  KeySchedule,
  Transcript,
  constantTimeEqual,
  finishedVerifyData,
  hashLength,
  resumptionPsk,
  type HashName,
} from './keySchedule.ts';
import {
  HandshakeType,
  decodeCertificate,
  decodeCertificateRequest,
  decodeCertificateVerify,
  decodeEncryptedExtensions,
  decodeNewSessionTicket,
  decodeServerHello,
  encodeCertificate,
  encodeClientHello,
  encodeFinished,
  handshakeTypeName,
  type ServerHello,
} from './messages.ts';
import {
  CERTIFICATE_SIGNATURE_SCHEMES,
  SUPPORTED_SIGNATURE_SCHEMES,
  certificateVerifyContent,
  leafPublicKey,
  signatureSchemeName,
  verifyCertificateVerify,
} from './signatures.ts';
import {
  MAX_TICKET_LIFETIME_SECONDS,
  fromBase64,
  parseStoredTicket,
  ticketAgeMs,
  toBase64,
  type StoredTicket,
} from './tickets.ts';
import type { Epoch, TlsClientConfig } from './tlsTypes.ts';
import type { TlsFacts } from '../../transport/tlsFacts.ts';
import type { KeyObject } from 'node:crypto';

type State =
  | 'start'
  | 'wait_sh'
  | 'wait_ee'
  | 'wait_cert_cr'
  | 'wait_cert'
  | 'wait_cv'
  | 'wait_finished'
  | 'wait_accept'
  | 'connected';

interface PskOffer {
  ticket: StoredTicket;
  psk: Uint8Array;
  hash: HashName;
}

export class ClientHandshake implements RoleMachine {
  readEpoch: Epoch = 'initial';
  complete = false;
  alpn: string | null = null;
  suite: CipherSuiteInfo | null = null;

  private state: State = 'start';
  private readonly config: TlsClientConfig;
  private readonly io: HandshakeIo;
  private readonly random: (n: number) => Uint8Array;
  private readonly now: () => number;
  private readonly suites: number[];
  private readonly groups: GroupName[];
  private readonly sendSni: boolean;
  private readonly clientRandom: Uint8Array;
  private readonly transcript = new Transcript();
  private keyShare: KeyShare;
  private cookie: Uint8Array | null = null;
  private retried = false;
  private pskOffer: PskOffer | null = null;
  private resumed = false;
  /** 0-RTT offered in the ClientHello in flight (never in a second one, §4.2.10). */
  private earlyOffered = false;
  /** The server's quic_transport_parameters, kept with a ticket that allows 0-RTT (RFC 9000 §7.4.1). */
  private peerTransportParameters: Uint8Array | null = null;
  private schedule: KeySchedule | null = null;
  private clientHs: Uint8Array | null = null;
  private serverHs: Uint8Array | null = null;
  private appSecrets: { client: Uint8Array; server: Uint8Array } | null = null;
  private resumptionSecret: Uint8Array | null = null;
  private certRequestContext: Uint8Array | null = null;
  private peerChain: Uint8Array[] = [];
  private peerKey: KeyObject | null = null;
  private signatureScheme: number | null = null;

  constructor(config: TlsClientConfig, io: HandshakeIo, random: (n: number) => Uint8Array, now: () => number) {
    this.config = config;
    this.io = io;
    this.random = random;
    this.now = now;
    this.suites = (config.cipherSuites ?? [...DEFAULT_CIPHER_SUITES]).filter((s) => cipherSuiteById(s) !== undefined);
    if (this.suites.length === 0) throw new Error('TlsClientConfig.cipherSuites: no supported cipher suite');
    this.groups = [...new Set(config.groups ?? DEFAULT_GROUPS)];
    if (this.groups.length === 0) throw new Error('TlsClientConfig.groups: empty');
    // RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in "HostName"."
    this.sendSni = config.serverName !== '' && isIP(config.serverName) === 0;
    this.clientRandom = random(32);
    this.keyShare = KeyShare.generate(this.groups[0] as GroupName, random);
  }

  get waiting(): boolean {
    return this.state === 'wait_accept';
  }

  start(): void {
    if (this.state !== 'start') throw new Error('TlsHandshake.start() called twice');
    this.pskOffer = this.usableTicket(null);
    this.earlyOffered =
      this.config.offerEarlyData === true && this.pskOffer !== null && this.earlyAllowed(this.pskOffer);
    this.sendClientHello();
    this.state = 'wait_sh';
  }

  private usableTicket(requiredHash: HashName | null): PskOffer | null {
    const ticket = parseStoredTicket(this.config.sessionTicket ?? null);
    if (ticket === null) return null;
    const suite = cipherSuiteById(ticket.cipherSuite);
    if (suite === undefined || ticketAgeMs(ticket, this.now()) === null) return null;
    if (ticket.serverName.toLowerCase() !== this.config.serverName.toLowerCase()) return null;
    // §4.6.1: "Any ticket MUST only be resumed with a cipher suite that has the same KDF hash algorithm".
    if (!this.suites.some((s) => cipherSuiteById(s)?.hash === suite.hash)) return null;
    if (requiredHash !== null && suite.hash !== requiredHash) return null;
    return { ticket, psk: fromBase64(ticket.psk), hash: suite.hash };
  }

  /**
   * §4.2.10: "The parameters for the 0-RTT data (version, symmetric cipher suite, Application-Layer
   * Protocol Negotiation (ALPN) [RFC7301] protocol, etc.) are those associated with the PSK in
   * use": the ticket must allow early data, and its suite and ALPN must be among ours.
   */
  private earlyAllowed(offer: PskOffer): boolean {
    const t = offer.ticket;
    return (
      t.earlyData !== undefined &&
      t.alpn !== null &&
      this.config.alpn.includes(t.alpn) &&
      this.suites.includes(t.cipherSuite)
    );
  }

  private sendClientHello(): void {
    const c = this.config;
    const exts: Extension[] = [];
    if (this.sendSni) exts.push({ type: Ext.server_name, data: encodeServerName(c.serverName) });
    exts.push(
      { type: Ext.supported_versions, data: encodeU16List([TLS13], 1) },
      { type: Ext.supported_groups, data: encodeU16List(this.groups.map((g) => GROUP_IDS[g])) },
      { type: Ext.signature_algorithms, data: encodeU16List(SUPPORTED_SIGNATURE_SCHEMES) },
      { type: Ext.signature_algorithms_cert, data: encodeU16List(CERTIFICATE_SIGNATURE_SCHEMES) },
      {
        type: Ext.key_share,
        data: encodeClientKeyShares([{ group: GROUP_IDS[this.keyShare.group], keyExchange: this.keyShare.publicKey }]),
      },
      { type: Ext.application_layer_protocol_negotiation, data: encodeAlpn(c.alpn) },
      { type: Ext.quic_transport_parameters, data: c.transportParameters },
    );
    if (this.cookie !== null) exts.push({ type: Ext.cookie, data: encodeCookie(this.cookie) });
    // Sent on every handshake, not only when a ticket is offered. RFC 9846 §4.6.1: "If the
    // client's hello contained a suitable "psk_key_exchange_modes" extension, the server MAY send
    // a NewSessionTicket message"; §4.2.9: the modes also restrict "those [PSKs] which the server
    // might supply via NewSessionTicket". Without it rustls never gives us a first ticket.
    exts.push({ type: Ext.psk_key_exchange_modes, data: Uint8Array.of(1, PSK_DHE_KE) });
    const offer = this.pskOffer;
    if (offer === null) {
      const ch = encodeClientHello(this.clientRandom, this.suites, exts);
      this.transcript.add(ch);
      this.io.send('initial', ch);
      return;
    }
    // §4.2.10: "If the client opts to do so, it MUST supply both the "pre_shared_key" and "early_data" extensions."
    if (this.earlyOffered) exts.push({ type: Ext.early_data, data: new Uint8Array(0) });
    // §4.2.11: "The "pre_shared_key" extension MUST be the last extension in the ClientHello".
    const age = ticketAgeMs(offer.ticket, this.now()) ?? 0;
    const identity = {
      identity: fromBase64(offer.ticket.ticket),
      obfuscatedTicketAge: (age + offer.ticket.ageAdd) >>> 0,
    };
    const hl = hashLength(offer.hash);
    exts.push({ type: Ext.pre_shared_key, data: encodeOfferedPsks([identity], [new Uint8Array(hl)]) });
    const ch = encodeClientHello(this.clientRandom, this.suites, exts);
    // §4.2.11.2: the binder is an HMAC over Transcript-Hash(Truncate(ClientHello)), where Truncate()
    // removes the binders list (2-byte length, 1-byte entry length, the binder).
    const truncated = ch.subarray(0, ch.length - (2 + 1 + hl));
    const binderKey = new KeySchedule(offer.hash, offer.psk).resumptionBinderKey();
    ch.set(finishedVerifyData(offer.hash, binderKey, this.transcript.hash(offer.hash, [truncated])), ch.length - hl);
    this.transcript.add(ch);
    this.io.send('initial', ch);
    if (this.earlyOffered) {
      // §7.1: client_early_traffic_secret = Derive-Secret(Early Secret, "c e traffic", ClientHello);
      // §4.2.10: "The PSK used to encrypt the early data MUST be the first PSK listed".
      const suite = cipherSuiteById(offer.ticket.cipherSuite) as CipherSuiteInfo;
      const secret = new KeySchedule(offer.hash, offer.psk).clientEarlyTrafficSecret(this.transcript.hash(offer.hash));
      this.io.emit({ type: 'keys', epoch: 'early', direction: 'write', suite, secret });
    }
  }

  handleMessage(m: HandshakeMessage): void {
    const t = m.type;
    switch (this.state) {
      case 'wait_sh':
        if (t === HandshakeType.server_hello) return this.onServerHello(m);
        break;
      case 'wait_ee':
        if (t === HandshakeType.encrypted_extensions) return this.onEncryptedExtensions(m);
        break;
      case 'wait_cert_cr':
        if (t === HandshakeType.certificate_request) return this.onCertificateRequest(m);
        if (t === HandshakeType.certificate) return this.onCertificate(m);
        break;
      case 'wait_cert':
        if (t === HandshakeType.certificate) return this.onCertificate(m);
        break;
      case 'wait_cv':
        if (t === HandshakeType.certificate_verify) return this.onCertificateVerify(m);
        break;
      case 'wait_finished':
        if (t === HandshakeType.finished) return this.onFinished(m);
        break;
      case 'connected':
        return this.onPostHandshake(m);
      default:
        break;
    }
    // §4: "A peer which receives a handshake message in an unexpected order MUST abort the
    // handshake with an "unexpected_message" alert."
    fail(Alert.unexpected_message, `${handshakeTypeName(t)} received in state ${this.state}`);
  }

  private onServerHello(m: HandshakeMessage): void {
    const sh = decodeServerHello(m.body);
    this.checkServerHelloCommon(sh);
    if (sh.isHelloRetryRequest) return this.onHelloRetryRequest(sh, m.raw);
    const allowed = new Set<number>([Ext.supported_versions, Ext.key_share, Ext.pre_shared_key]);
    checkResponseExtensions(sh.extensions, allowed, 'ServerHello');
    const suite = this.suite as CipherSuiteInfo;
    const ksData = sh.extensions.get(Ext.key_share);
    // We offer only psk_dhe_ke, so a key_share is always required (§4.2.8, §9.2).
    if (ksData === undefined) fail(Alert.missing_extension, 'ServerHello without key_share');
    const share = decodeServerKeyShare(ksData);
    // §4.2.8: "the client MUST verify that the selected NamedGroup in the ServerHello is the same as
    // that in the HelloRetryRequest"; and in any case one it sent a share for.
    if (share.group !== GROUP_IDS[this.keyShare.group])
      fail(Alert.illegal_parameter, `ServerHello key_share for group ${share.group}, which we did not offer`);
    const pskData = sh.extensions.get(Ext.pre_shared_key);
    let psk: Uint8Array | null = null;
    if (pskData !== undefined) {
      if (this.pskOffer === null) fail(Alert.unsupported_extension, 'ServerHello pre_shared_key without an offer');
      // §4.2.11: "Clients MUST verify that the server's selected_identity is within the range supplied by the client".
      if (decodeU16(pskData, 'pre_shared_key') !== 0)
        fail(Alert.illegal_parameter, 'ServerHello selected a PSK identity we did not offer');
      if (this.pskOffer.hash !== suite.hash)
        fail(Alert.illegal_parameter, 'ServerHello cipher suite hash differs from the PSK hash');
      psk = this.pskOffer.psk;
      this.resumed = true;
    }
    const secret = this.keyShare.computeSecret(share.keyExchange);
    this.transcript.add(m.raw);
    this.schedule = new KeySchedule(suite.hash, psk);
    this.schedule.setSharedSecret(secret);
    const hs = this.schedule.handshakeTrafficSecrets(this.transcript.hash(suite.hash));
    this.clientHs = hs.client;
    this.serverHs = hs.server;
    this.io.emit({ type: 'keys', epoch: 'handshake', direction: 'read', suite, secret: hs.server });
    this.io.emit({ type: 'keys', epoch: 'handshake', direction: 'write', suite, secret: hs.client });
    this.readEpoch = 'handshake';
    this.state = 'wait_ee';
  }

  /** Checks shared by ServerHello and HelloRetryRequest (§4.1.3, §4.1.4, §4.2.1); sets this.suite. */
  private checkServerHelloCommon(sh: ServerHello): void {
    const sv = sh.extensions.get(Ext.supported_versions);
    // §4.2.1: a ServerHello without supported_versions negotiates TLS 1.2 or older, which QUIC forbids (RFC 9001 §4.2).
    if (sv === undefined) fail(Alert.protocol_version, 'server does not speak TLS 1.3 (no supported_versions)');
    // §4.2.1: "If the "supported_versions" extension in the ServerHello contains a version not offered
    // by the client or contains a version prior to TLS 1.3, the client MUST abort the handshake with an "illegal_parameter" alert."
    if (decodeU16(sv, 'supported_versions') !== TLS13)
      fail(Alert.illegal_parameter, 'ServerHello selected a version other than TLS 1.3');
    if (sh.legacyVersion !== 0x0303)
      fail(Alert.protocol_version, `ServerHello legacy_version 0x${sh.legacyVersion.toString(16)}`);
    // §4.1.3: "A client which receives a legacy_session_id_echo field that does not match what it sent
    // in the ClientHello MUST abort the handshake with an "illegal_parameter" alert." (We sent none.)
    if (sh.legacySessionIdEcho.length !== 0)
      fail(Alert.illegal_parameter, 'ServerHello echoes a legacy_session_id we did not send');
    if (sh.compressionMethod !== 0) fail(Alert.illegal_parameter, 'ServerHello legacy_compression_method is not 0');
    // §4.1.3: "A client which receives a cipher suite that was not offered MUST abort the handshake
    // with an "illegal_parameter" alert."
    const suite = cipherSuiteById(sh.cipherSuite);
    if (suite === undefined || !this.suites.includes(sh.cipherSuite))
      fail(Alert.illegal_parameter, `ServerHello cipher suite 0x${sh.cipherSuite.toString(16)} was not offered`);
    // §4.1.4: "the client MUST check that the cipher suite supplied in the ServerHello is the same as
    // that in the HelloRetryRequest and otherwise abort the handshake with an "illegal_parameter" alert."
    if (this.suite !== null && this.suite.id !== suite.id)
      fail(Alert.illegal_parameter, 'ServerHello cipher suite differs from the HelloRetryRequest');
    this.suite = suite;
  }

  private onHelloRetryRequest(hrr: ServerHello, raw: Uint8Array): void {
    // §4.1.4: "If a client receives a second HelloRetryRequest in the same connection ... it MUST
    // abort the handshake with an "unexpected_message" alert."
    if (this.retried) fail(Alert.unexpected_message, 'second HelloRetryRequest');
    this.retried = true;
    // §4.1.4: "A HelloRetryRequest MUST NOT contain any extensions that were not first offered by the
    // client in its ClientHello, with the exception of optionally the "cookie" extension."
    checkResponseExtensions(
      hrr.extensions,
      new Set<number>([Ext.supported_versions, Ext.key_share, Ext.cookie]),
      'HelloRetryRequest',
    );
    let changed = false;
    const ksData = hrr.extensions.get(Ext.key_share);
    if (ksData !== undefined) {
      const group = groupById(decodeU16(ksData, 'key_share'));
      // §4.2.8: "Clients MUST verify that (1) the selected_group field corresponds to a group which was
      // provided in the "supported_groups" extension in the original ClientHello and (2) the
      // selected_group field does not correspond to a group which was provided in the "key_share"
      // extension in the original ClientHello. If either of these checks fails, then the client MUST
      // abort the handshake with an "illegal_parameter" alert."
      if (group === undefined || !this.groups.includes(group) || group === this.keyShare.group) {
        fail(Alert.illegal_parameter, 'HelloRetryRequest selected a group we cannot or already did offer');
      }
      this.keyShare = KeyShare.generate(group, this.random);
      changed = true;
    }
    const cookieData = hrr.extensions.get(Ext.cookie);
    if (cookieData !== undefined) {
      this.cookie = decodeCookie(cookieData);
      changed = true;
    }
    // §4.1.4: "Clients MUST abort the handshake with an "illegal_parameter" alert if the
    // HelloRetryRequest would not result in any change in the ClientHello."
    if (!changed) fail(Alert.illegal_parameter, 'HelloRetryRequest asks for no change');
    const suite = this.suite as CipherSuiteInfo;
    if (this.earlyOffered) {
      // RFC 9001 §4.6.2: "A server will always reject 0-RTT if it sends a TLS HelloRetryRequest";
      // §4.2.10: "A client MUST NOT include the "early_data" extension in its followup ClientHello."
      this.earlyOffered = false;
      this.io.emit({ type: 'early-data', accepted: false });
    }
    this.transcript.replaceWithMessageHash(suite.hash);
    this.transcript.add(raw);
    // §4.1.2: the client MAY drop PSKs incompatible with the cipher suite selected in the HRR.
    this.pskOffer = this.pskOffer === null ? null : this.usableTicket(suite.hash);
    this.sendClientHello();
  }

  private onEncryptedExtensions(m: HandshakeMessage): void {
    const ee = decodeEncryptedExtensions(m.body);
    const offered = new Set<number>([
      Ext.supported_groups,
      Ext.application_layer_protocol_negotiation,
      Ext.quic_transport_parameters,
    ]);
    if (this.sendSni) offered.add(Ext.server_name);
    if (this.earlyOffered) offered.add(Ext.early_data);
    checkResponseExtensions(ee, offered, 'EncryptedExtensions');
    const sni = ee.get(Ext.server_name);
    if (sni !== undefined && sni.length !== 0) fail(Alert.decode_error, 'EncryptedExtensions server_name is not empty');
    const alpnData = ee.get(Ext.application_layer_protocol_negotiation);
    // RFC 9001 §8.1: "endpoints MUST immediately close a connection ... with a no_application_protocol
    // TLS alert ... if an application protocol is not negotiated."
    if (alpnData === undefined) fail(Alert.no_application_protocol, 'the server selected no ALPN protocol');
    const alpn = decodeAlpn(alpnData);
    // RFC 7301 §3.1: the server's "ProtocolNameList" MUST contain exactly one "ProtocolName".
    if (alpn.length !== 1) fail(Alert.illegal_parameter, `the server selected ${alpn.length} ALPN protocols`);
    const chosen = alpn[0] as string;
    if (!this.config.alpn.includes(chosen))
      fail(Alert.no_application_protocol, `the server selected ALPN "${chosen}", which we did not offer`);
    const tp = ee.get(Ext.quic_transport_parameters);
    // RFC 9001 §8.2: "endpoints that receive ClientHello or EncryptedExtensions messages without the
    // quic_transport_parameters extension MUST close the connection with an error of type 0x016d".
    if (tp === undefined) fail(Alert.missing_extension, 'EncryptedExtensions without quic_transport_parameters');
    const early = ee.get(Ext.early_data);
    if (early !== undefined) {
      // §4.2.10: EarlyDataIndication in encrypted_extensions is Empty.
      if (early.length !== 0) fail(Alert.decode_error, 'EncryptedExtensions early_data is not empty');
      // §4.2.10: "In order to accept early data, the server MUST have selected the first key
      // offered in the client's "pre_shared_key" extension" and kept the PSK's ALPN.
      if (!this.resumed) fail(Alert.illegal_parameter, 'the server accepted early data without resuming');
      if (chosen !== (this.pskOffer as PskOffer).ticket.alpn)
        fail(Alert.illegal_parameter, 'the server accepted early data with another ALPN than the ticket');
      // §4.2.10: to accept early data the server "MUST verify that the following values are the
      // same as those associated with the selected PSK: ... The selected cipher suite". Our early
      // data was sealed under the ticket's suite; a server accepting it under another broke that
      // rule, and we abort as §4.2.10 has the client do for its own check ("If the server has
      // supplied an "early_data" extension, the client MUST verify that the server's
      // selected_identity is 0. If any other value is returned, the client MUST abort the
      // handshake with an "illegal_parameter" alert"; selected_identity is checked at ServerHello).
      if ((this.suite as CipherSuiteInfo).id !== (this.pskOffer as PskOffer).ticket.cipherSuite)
        fail(Alert.illegal_parameter, 'the server accepted early data with another cipher suite than the ticket');
    }
    this.alpn = chosen;
    this.peerTransportParameters = tp.slice();
    this.transcript.add(m.raw);
    this.io.emit({ type: 'peer-transport-parameters', data: tp });
    if (this.earlyOffered) this.io.emit({ type: 'early-data', accepted: early !== undefined });
    this.state = this.resumed ? 'wait_finished' : 'wait_cert_cr';
  }

  private onCertificateRequest(m: HandshakeMessage): void {
    const cr = decodeCertificateRequest(m.body);
    // §4.3.2: "This field SHALL be zero length unless used for the post-handshake authentication exchanges".
    if (cr.context.length !== 0) fail(Alert.illegal_parameter, 'CertificateRequest context is not empty');
    // §4.3.2: "The "signature_algorithms" extension MUST be specified".
    if (!cr.extensions.has(Ext.signature_algorithms))
      fail(Alert.missing_extension, 'CertificateRequest without signature_algorithms');
    this.certRequestContext = cr.context;
    this.transcript.add(m.raw);
    this.state = 'wait_cert';
  }

  private onCertificate(m: HandshakeMessage): void {
    const cert = decodeCertificate(m.body);
    if (cert.context.length !== 0) fail(Alert.illegal_parameter, 'server Certificate has a request context');
    // §4.4.2.4: "If the server supplies an empty Certificate message, the client MUST abort the
    // handshake with a "decode_error" alert."
    if (cert.chain.length === 0) fail(Alert.decode_error, 'the server sent no certificate');
    this.peerKey = leafPublicKey(cert.chain[0] as Uint8Array);
    this.peerChain = cert.chain.map((c) => c.slice());
    this.transcript.add(m.raw);
    this.state = 'wait_cv';
  }

  private onCertificateVerify(m: HandshakeMessage): void {
    const suite = this.suite as CipherSuiteInfo;
    const cv = decodeCertificateVerify(m.body);
    const content = certificateVerifyContent('server', this.transcript.hash(suite.hash));
    verifyCertificateVerify(cv.scheme, SUPPORTED_SIGNATURE_SCHEMES, this.peerKey as KeyObject, content, cv.signature);
    this.signatureScheme = cv.scheme;
    this.transcript.add(m.raw);
    this.state = 'wait_finished';
  }

  private onFinished(m: HandshakeMessage): void {
    const suite = this.suite as CipherSuiteInfo;
    const expected = finishedVerifyData(suite.hash, this.serverHs as Uint8Array, this.transcript.hash(suite.hash));
    // §4.4.4: "Recipients of Finished messages MUST verify that the contents are correct and if
    // incorrect MUST terminate the connection with a "decrypt_error" alert."
    if (!constantTimeEqual(expected, m.body)) fail(Alert.decrypt_error, 'server Finished does not verify');
    this.transcript.add(m.raw);
    this.appSecrets = (this.schedule as KeySchedule).applicationTrafficSecrets(this.transcript.hash(suite.hash));
    if (this.resumed) this.peerChain = (this.pskOffer as PskOffer).ticket.peerChain.map(fromBase64);
    this.state = 'wait_accept';
    this.io.emit({ type: 'peer-certificate', chain: this.peerChain });
  }

  /** The caller's verifier accepted the chain: send our Finished and install 1-RTT keys. */
  acceptPeer(): void {
    if (this.state !== 'wait_accept')
      throw new Error(`acceptPeer() called in state ${this.state}, not after 'peer-certificate'`);
    const suite = this.suite as CipherSuiteInfo;
    const app = this.appSecrets as { client: Uint8Array; server: Uint8Array };
    if (this.certRequestContext !== null) {
      // §4.4.2: "If the client does not send any certificates ... it MUST send a Certificate message containing no certificates".
      const empty = encodeCertificate(this.certRequestContext, []);
      this.transcript.add(empty);
      this.io.send('handshake', empty);
    }
    const fin = encodeFinished(
      finishedVerifyData(suite.hash, this.clientHs as Uint8Array, this.transcript.hash(suite.hash)),
    );
    this.transcript.add(fin);
    this.io.send('handshake', fin);
    this.resumptionSecret = (this.schedule as KeySchedule).resumptionMasterSecret(this.transcript.hash(suite.hash));
    this.io.emit({ type: 'keys', epoch: 'application', direction: 'read', suite, secret: app.server });
    this.io.emit({ type: 'keys', epoch: 'application', direction: 'write', suite, secret: app.client });
    this.state = 'connected';
    this.readEpoch = 'application';
    this.complete = true;
    this.io.emit({ type: 'handshake-complete' });
  }

  private onPostHandshake(m: HandshakeMessage): void {
    if (m.type === HandshakeType.new_session_ticket) return this.onNewSessionTicket(m);
    // RFC 9001 §6: "Endpoints MUST treat the receipt of a TLS KeyUpdate message as a connection error
    // of type 0x010a, equivalent to a fatal TLS alert of unexpected_message".
    if (m.type === HandshakeType.key_update) fail(Alert.unexpected_message, 'TLS KeyUpdate is forbidden in QUIC');
    // RFC 9001 §4.4: "clients MUST treat receipt of such messages [post-handshake CertificateRequest]
    // as a connection error of type PROTOCOL_VIOLATION."
    if (m.type === HandshakeType.certificate_request) {
      fail(Alert.unexpected_message, 'post-handshake CertificateRequest is forbidden in QUIC', QUIC_PROTOCOL_VIOLATION);
    }
    fail(Alert.unexpected_message, `${handshakeTypeName(m.type)} after the handshake`);
  }

  private onNewSessionTicket(m: HandshakeMessage): void {
    const nst = decodeNewSessionTicket(m.body);
    // §4.6.1: "Servers MUST NOT use any value greater than 604800 seconds (7 days)."
    if (nst.lifetime > MAX_TICKET_LIFETIME_SECONDS)
      fail(Alert.illegal_parameter, `ticket lifetime ${nst.lifetime}s exceeds 7 days`);
    const earlyData = nst.extensions.get(Ext.early_data);
    let allowsEarlyData = false;
    if (earlyData !== undefined) {
      // RFC 8446bis §4.6.1: "max_early_data_size: ... a 32-bit unsigned integer".
      if (earlyData.length !== 4) fail(Alert.decode_error, 'NewSessionTicket early_data is not a 32-bit size');
      const max = new DataView(earlyData.buffer, earlyData.byteOffset, 4).getUint32(0);
      // RFC 9001 §4.6.1: "Servers MUST NOT send the early_data extension with a
      // max_early_data_size field set to any value other than 0xffffffff. A client MUST treat
      // receipt of a NewSessionTicket that contains an early_data extension with any other value
      // as a connection error of type PROTOCOL_VIOLATION."
      if (max !== 0xffffffff)
        fail(
          Alert.illegal_parameter,
          `NewSessionTicket early_data max_early_data_size ${max}, not 0xffffffff`,
          QUIC_PROTOCOL_VIOLATION,
        );
      allowsEarlyData = true;
    }
    // §4.6.1: "The value of zero indicates that the ticket should be discarded immediately."
    if (nst.lifetime === 0) return;
    const suite = this.suite as CipherSuiteInfo;
    const ticket: StoredTicket = {
      version: 1,
      serverName: this.config.serverName,
      alpn: this.alpn,
      cipherSuite: suite.id,
      ticket: toBase64(nst.ticket),
      psk: toBase64(resumptionPsk(suite.hash, this.resumptionSecret as Uint8Array, nst.nonce)),
      ageAdd: nst.ageAdd,
      lifetimeSeconds: nst.lifetime,
      receivedAt: this.now(),
      peerChain: this.peerChain.map(toBase64),
    };
    if (allowsEarlyData && this.peerTransportParameters !== null)
      ticket.earlyData = { transportParameters: toBase64(this.peerTransportParameters) };
    this.io.emit({ type: 'session-ticket', ticket });
  }

  /**
   * The handshake's facts once the server's Finished has verified: from 'peer-certificate' on (the
   * caller's verifier reads them before `acceptPeer`), and after completion.
   */
  facts(): TlsFacts | null {
    if ((!this.complete && this.state !== 'wait_accept') || this.suite === null) return null;
    return {
      version: 'TLSv1.3',
      cipher: this.suite.name,
      group: this.keyShare.group,
      alpn: this.alpn,
      sni: this.sendSni ? this.config.serverName : '',
      chain: this.peerChain,
      channelBinding: null,
      resumed: this.resumed,
      signatureScheme: this.signatureScheme === null ? null : signatureSchemeName(this.signatureScheme),
      ech: 'not-available',
    };
  }
}

/**
 * §4.2: "If an implementation receives an extension which it recognizes and which is not specified
 * for the message in which it appears, it MUST abort the handshake with an "illegal_parameter"
 * alert." and §4.1.4/§4.2: a response extension that was not offered is "unsupported_extension".
 */
export function checkResponseExtensions(exts: Extensions, allowed: ReadonlySet<number>, what: string): void {
  const known = new Set<number>(Object.values(Ext));
  for (const e of exts.list) {
    if (allowed.has(e.type)) continue;
    if (known.has(e.type) && e.type !== Ext.early_data)
      fail(Alert.illegal_parameter, `${what} carries extension ${e.type}, not allowed there`);
    fail(Alert.unsupported_extension, `${what} carries extension ${e.type}, which we did not offer`);
  }
}
