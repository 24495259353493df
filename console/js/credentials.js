// The access key the user signed in with. Kept in sessionStorage only: it lives as long as the
// tab, is never written to disk by us, and never leaves the browser (only signatures do).

const KEY = 'tmirror.credentials';

export function loadCredentials() {
  try {
    const stored = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    if (stored && stored.accessKeyId && stored.secretAccessKey) return stored;
  } catch (_) { /* unreadable: treat as signed out */ }
  return null;
}

export function saveCredentials({ accessKeyId, secretAccessKey, region }) {
  sessionStorage.setItem(KEY, JSON.stringify({ accessKeyId, secretAccessKey,
                                               region: region || 'us-east-1' }));
}

export function clearCredentials() {
  sessionStorage.removeItem(KEY);
}
