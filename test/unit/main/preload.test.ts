/**
 * Loads the real main/preload.cts with the `electron` module replaced in the CommonJS cache (the
 * preload only `require`s it), and checks what it puts on `window`.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire, Module } from 'node:module';
import { describe, test } from 'node:test';
import type { ContractTransport } from '../../../app/contract/index.ts';
import { EVENT_CHANNEL, INVOKE_CHANNEL } from '../../../main/ipc.ts';

const require = createRequire(import.meta.url);
const preloadPath = require.resolve('../../../main/preload.cts');

type Listener = (...args: unknown[]) => void;

function loadPreload() {
  const exposed: Array<{ key: string; api: unknown }> = [];
  const invoked: unknown[][] = [];
  const listeners = new Map<string, Set<Listener>>();
  const fake = {
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.push({ key, api }) },
    ipcRenderer: {
      invoke: async (...args: unknown[]) => (invoked.push(args), { ok: true, value: 'pong' }),
      on: (channel: string, listener: Listener) =>
        void (listeners.get(channel) ?? listeners.set(channel, new Set()).get(channel)!).add(listener),
      removeListener: (channel: string, listener: Listener) => void listeners.get(channel)?.delete(listener),
    },
  };
  const electronPath = require.resolve('electron');
  const saved = require.cache[electronPath];
  const stub = new Module(electronPath);
  stub.exports = fake;
  stub.loaded = true;
  require.cache[electronPath] = stub;
  try {
    delete require.cache[preloadPath];
    require(preloadPath);
  } finally {
    if (saved) require.cache[electronPath] = saved;
    else delete require.cache[electronPath];
  }
  return { exposed, invoked, listeners };
}

describe('preload', () => {
  test('exposes window.quiver with exactly invoke and subscribe, nothing else (#20)', () => {
    const { exposed } = loadPreload();
    assert.equal(exposed.length, 1);
    assert.equal(exposed[0]?.key, 'quiver');
    assert.deepEqual(Object.keys(exposed[0]?.api as object).sort(), ['invoke', 'subscribe']);
  });

  test('invoke goes to the invoke channel with the name and args only', async () => {
    const { exposed, invoked } = loadPreload();
    const api = exposed[0]?.api as ContractTransport;
    assert.deepEqual(await api.invoke('account.list', {}), { ok: true, value: 'pong' });
    assert.deepEqual(invoked, [[INVOKE_CHANNEL, 'account.list', {}]]);
  });

  test('subscribe delivers the envelope without the IPC event, and unsubscribes', () => {
    const { exposed, listeners } = loadPreload();
    const api = exposed[0]?.api as ContractTransport;
    const seen: unknown[][] = [];
    const off = api.subscribe((...args: unknown[]) => seen.push(args));
    const registered = [...(listeners.get(EVENT_CHANNEL) ?? [])];
    assert.equal(registered.length, 1);
    const envelope = { name: 'account.removed', payload: { accountId: 'a1' } };
    registered[0]?.({ sender: 'ipc event with sender' }, envelope);
    assert.deepEqual(seen, [[envelope]]);
    off();
    assert.equal(listeners.get(EVENT_CHANNEL)?.size, 0);
  });

  test('requires nothing but electron (sandboxed preloads cannot) and stays small', async () => {
    const source = await readFile(preloadPath, 'utf8');
    assert.deepEqual(
      [...source.matchAll(/require\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]),
      ['electron'],
    );
    assert.ok(source.split('\n').length <= 30);
  });
});
