/**
 * The browser host's access token. The page arrives as `…/#token=SECRET`, forwarded by the 0600
 * launch page `npm start` opens (app/host/launchPage.ts: a command line would show the token to
 * every local user). The token is moved out of the address bar at once (so it is not bookmarked,
 * shared or left in history) and kept in sessionStorage so a reload of the same tab keeps working.
 */
const KEY = 'quiver.hostToken';

export function takeHostToken(location: Location, history: History, storage: Storage): string | null {
  const hash = new URLSearchParams(location.hash.replace(/^#/, ''));
  const fromHash = hash.get('token');
  if (fromHash) {
    storage.setItem(KEY, fromHash);
    history.replaceState(history.state, '', location.pathname + location.search);
    return fromHash;
  }
  return storage.getItem(KEY);
}

/** `ws(s)://<same host>/ws?token=…` */
export function hostSocketUrl(location: Location, token: string): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/ws?token=${encodeURIComponent(token)}`;
}
