/**
 * Start-up: pick the transport (the Electron preload's `window.quiver`, else the browser host's
 * WebSocket), build the state and mount the UI.
 */
import { mount } from 'svelte';
import { createApi, type ContractTransport } from '../../app/contract/api.ts';
import App from './components/App.svelte';
import { AppState } from './state/appState.svelte.ts';
import { hostSocketUrl, takeHostToken } from './transport/hostToken.ts';
import { createWsTransport, type WsTransport } from './transport/wsTransport.ts';
import './style.css';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');

let state: AppState | null = null;
let transport: ContractTransport | null = window.quiver ?? null;
let ws: WsTransport | null = null;
let fatal: string | null = null;

if (!transport) {
  const token = takeHostToken(window.location, window.history, window.sessionStorage);
  if (token) {
    transport = ws = createWsTransport({
      url: hostSocketUrl(window.location, token),
      onStatus: (status) => state?.setLink(status),
    });
  } else {
    fatal =
      'This page needs the launch page that Quiver printed when it started (file:///…/open-….html, readable only by you). Open that link again.';
  }
}

if (transport) {
  const api = createApi(transport);
  state = new AppState(api);
  if (ws) state.setLink(ws.status);
  void state.start();
  // XEP-0352: a hidden window tells the servers to hold back what is not urgent.
  const tellVisibility = () =>
    void api
      .call('client.setState', { state: document.hidden ? 'inactive' : 'active' })
      .catch((error: unknown) => console.warn('Quiver could not pass the window state on:', error));
  document.addEventListener('visibilitychange', tellVisibility);
  if (document.hidden) tellVisibility();
}

mount(App, { target, props: { app: state, fatal } });
