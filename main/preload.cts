/**
 * The preload: sandboxed (Electron security checklist #4), so CommonJS and only `electron`.
 * Exposes exactly a `ContractTransport` as `window.quiver` and never ipcRenderer itself (#20:
 * do not expose Electron APIs to untrusted web content). Channel names match main/ipc.ts.
 */
import type { ContractTransport } from '../app/contract/api.ts';

const { contextBridge, ipcRenderer } = require('electron') as typeof import('electron');

const transport: ContractTransport = {
  invoke: (name, args) => ipcRenderer.invoke('quiver:invoke', name, args),
  subscribe(listener) {
    // The IPC event object (with its `sender`) stays here; the page sees only the envelope.
    const forward = (_event: unknown, envelope: Parameters<typeof listener>[0]) => listener(envelope);
    ipcRenderer.on('quiver:event', forward);
    return () => void ipcRenderer.removeListener('quiver:event', forward);
  },
};

contextBridge.exposeInMainWorld('quiver', transport);
