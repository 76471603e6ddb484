import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { isIP, isIPv4, isIPv6 } from '../../../app/contract/ipLiteral.ts';

const SAMPLES = [
  '127.0.0.1',
  '0.0.0.0',
  '255.255.255.255',
  '256.0.0.1',
  '1.2.3',
  '1.2.3.4.5',
  '01.2.3.4',
  '1.2.3.04',
  '0x7f.0.0.1',
  '1.2.3.4 ',
  ' 1.2.3.4',
  '',
  '::',
  '::1',
  '1::',
  'fe80::1',
  'fe80::1%eth0',
  'fe80::1%',
  '2001:db8::1:2:3:4:5',
  '2001:db8:0:0:0:0:0:1',
  '2001:db8:0:0:0:0:0:0:1',
  '1:2:3:4:5:6:7::',
  '::1:2:3:4:5:6:7',
  '1:2:3:4:5:6:7:8::',
  '::ffff:127.0.0.1',
  '::ffff:127.0.0.256',
  '1.2.3.4::',
  '::1.2.3.4:1',
  'gggg::1',
  '12345::1',
  '1:::2',
  ':1::2',
  '1::2:',
  'example.org',
  'localhost',
  '[::1]',
  'a:b:c:d:e:f:1.2.3.4',
  'a:b:c:d:e:f:0:1.2.3.4',
  'A::B',
];

test('isIP, isIPv4 and isIPv6 answer as node:net does', () => {
  for (const sample of SAMPLES) {
    assert.equal(isIPv4(sample), net.isIPv4(sample), `isIPv4(${JSON.stringify(sample)})`);
    assert.equal(isIPv6(sample), net.isIPv6(sample), `isIPv6(${JSON.stringify(sample)})`);
    assert.equal(isIP(sample), net.isIP(sample), `isIP(${JSON.stringify(sample)})`);
  }
});
