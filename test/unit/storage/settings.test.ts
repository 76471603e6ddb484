import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStorage } from '../../../app/storage/storage.ts';
import type { Storage } from '../../../app/storage/storage.ts';

function storage(t: { after(fn: () => void): void }): Storage {
  const s = openStorage(':memory:');
  t.after(() => s.close());
  return s;
}

test('getSetting/setSetting store JSON values by key', (t) => {
  const s = storage(t);
  assert.equal(s.getSetting('window'), null);
  s.setSetting('window', { width: 1200, height: 800, maximized: false });
  assert.deepEqual(s.getSetting('window'), { width: 1200, height: 800, maximized: false });
  s.setSetting('window', [1, 'two', null]);
  assert.deepEqual(s.getSetting('window'), [1, 'two', null]);
  s.deleteSetting('window');
  assert.equal(s.getSetting('window'), null);
});

test('global settings default to null and update one key at a time', (t) => {
  const s = storage(t);
  assert.deepEqual(s.getGlobalSettings(), { resolver: null, extraCaPem: null });
  assert.deepEqual(s.updateGlobalSettings({ resolver: '127.0.0.1:5300' }), {
    resolver: '127.0.0.1:5300',
    extraCaPem: null,
  });
  assert.deepEqual(s.updateGlobalSettings({ extraCaPem: 'PEM' }), { resolver: '127.0.0.1:5300', extraCaPem: 'PEM' });
  assert.deepEqual(s.updateGlobalSettings({ resolver: null }), { resolver: null, extraCaPem: 'PEM' });
});
