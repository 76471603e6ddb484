import type { ContractTransport } from '../../app/contract/api.ts';

declare global {
  interface Window {
    /** Set by the Electron preload through contextBridge; absent in the browser host. */
    quiver?: ContractTransport;
  }
}

export {};
