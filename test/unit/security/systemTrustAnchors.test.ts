/**
 * The system roots are read and parsed once per process (issue 11's bench: every account loaded
 * all 577 system roots again, ~95 ms each); the extra CAs stay per account.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trustAnchorLoader } from '../../../app/security/driver/systemTrustAnchors.ts';
import { makeCertificate, makeHierarchy, toPem } from './certFactory.ts';

test('the loader reads and parses the system roots once; each call adds only its own extra CAs', async () => {
  const { root, intermediate } = await makeHierarchy();
  const extraA = await makeCertificate({ cn: 'Account A CA', ca: true });
  const extraB = await makeCertificate({ cn: 'Account B CA', ca: true });
  let reads = 0;
  const load = trustAnchorLoader([
    {
      name: 'test store',
      load: () => {
        reads += 1;
        return [toPem(root.der), toPem(root.der), toPem(intermediate.der)];
      },
    },
  ]);

  const a = load([toPem(extraA.der)]);
  const b = load([toPem(extraB.der)]);
  const none = load([]);
  assert.equal(reads, 1);
  // The same parsed system anchors, de-duplicated, shared by every call.
  assert.equal(a.anchors.length, 3);
  for (let index = 0; index < 2; index += 1) {
    assert.equal(b.anchors[index], a.anchors[index]);
    assert.equal(none.anchors[index], a.anchors[index]);
  }
  assert.equal(a.systemSource, 'test store');
  // Account A's extra CA is not in account B's set, nor in a set without extras.
  const subjects = (anchors: typeof a): string[] => anchors.anchors.map((anchor) => anchor.subject);
  assert.ok(subjects(a).includes('CN=Account A CA'), subjects(a).join('; '));
  assert.ok(!subjects(b).includes('CN=Account A CA'), subjects(b).join('; '));
  assert.ok(subjects(b).includes('CN=Account B CA'), subjects(b).join('; '));
  assert.equal(none.anchors.length, 2);
  assert.deepEqual(
    none.anchors.map((anchor) => anchor.origin),
    ['system', 'system'],
  );
});

test('a missing store is skipped for the next source, and the outcome is remembered too', () => {
  let tries = 0;
  const load = trustAnchorLoader([
    {
      name: 'absent',
      load: () => {
        tries += 1;
        throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      },
    },
  ]);
  assert.equal(load([]).systemSource, 'none');
  assert.equal(load([]).systemSource, 'none');
  assert.equal(tries, 1);
});
