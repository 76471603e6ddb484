/**
 * Which certificate the gateway presents for an SNI: the first pair whose leaf names it as a
 * DNS-ID (RFC 6125 §6.4: case-insensitive, a wildcard only as the whole left-most label and for
 * exactly one label), else the first pair. SRV-IDs, XmppAddrs and the CN choose nothing.
 */
import assert from 'node:assert/strict';
import { KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { CertificateSelector, type GatewayCertificate } from '../../../app/gateway/certificateSelector.ts';
import { makeCertificate, type CertificateSpec } from '../security/certFactory.ts';

async function pair(spec: CertificateSpec): Promise<GatewayCertificate> {
  const issued = await makeCertificate(spec);
  return { certificateChain: [issued.der], privateKey: KeyObject.from(issued.keys.privateKey) };
}

describe('CertificateSelector', () => {
  it('picks the first pair whose DNS-IDs name the SNI, else the first pair', async () => {
    const first = await pair({ cn: 'default.test', dnsNames: ['default.test'] });
    const shared = await pair({ cn: 'shared', dnsNames: ['quic-a.test', 'quic-b.test'] });
    const wildcard = await pair({ cn: 'wild', dnsNames: ['*.wild.test'] });
    const alsoA = await pair({ cn: 'quic-a.test', dnsNames: ['quic-a.test'] });
    const onlyOtherIds = await pair({
      cn: 'cn-only.test',
      srvNames: ['_xmpp-client.srv.test'],
      xmppAddrs: ['addr.test'],
    });
    const selector = new CertificateSelector([first, shared, wildcard, alsoA, onlyOtherIds]);
    const cases: Array<[string | null, GatewayCertificate, string]> = [
      [null, first, 'no SNI'],
      ['', first, 'empty SNI'],
      ['default.test', first, 'the first pair names it'],
      ['quic-a.test', shared, 'the earlier of two pairs that name it'],
      ['quic-b.test', shared, 'the second DNS-ID'],
      ['QUIC-B.Test', shared, 'case-insensitive'],
      ['x.wild.test', wildcard, 'a wildcard matches one left-most label'],
      ['y.x.wild.test', first, 'a wildcard never matches two labels'],
      ['wild.test', first, 'a wildcard does not match the parent'],
      ['srv.test', first, 'an SRV-ID does not choose'],
      ['addr.test', first, 'an XmppAddr does not choose'],
      ['cn-only.test', first, 'a CN does not choose'],
      ['unknown.test', first, 'no pair names it'],
      ['127.0.0.1', first, 'an IP literal'],
      ['bad name%00', first, 'garbage'],
    ];
    for (const [sni, expected, why] of cases) assert.equal(selector.select(sni), expected, `${sni}: ${why}`);
  });

  it('refuses an empty list and a chain without a leaf, and a leaf that is not a certificate', async () => {
    assert.throws(() => new CertificateSelector([]), RangeError);
    const { privateKey } = await pair({ cn: 'x.test', dnsNames: ['x.test'] });
    assert.throws(() => new CertificateSelector([{ certificateChain: [], privateKey }]), RangeError);
    assert.throws(
      () => new CertificateSelector([{ certificateChain: [new Uint8Array([0x30, 0x03, 1, 2, 3])], privateKey }]),
      (error: Error & { code?: string }) => error.code === 'bad-certificate',
    );
  });
});
