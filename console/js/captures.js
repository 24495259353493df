// The collector's capture files of a session, with download links. The server lists the files
// of the collector that `tmirror up` runs (GET /captures) and serves each one
// (GET /captures/<name>); both need a SigV4-signed request, like the API, because captures
// are as sensitive as the traffic itself. Downloads are fetched signed and handed to the
// browser as a blob.
import { loadCredentials } from './credentials.js';
import { clear, h } from './dom.js';
import { panel } from './page_parts.js';
import { signedFetch } from './signed_fetch.js';

export async function signedGet(path) {
  const credentials = loadCredentials();
  if (!credentials) throw new Error('Sign in first.');
  return signedFetch(credentials, 'ec2', { method: 'GET', path });
}

// Files of the session with virtual network id `vni`, newest first; null when this server
// has no collector's files to show (404).
export async function listCaptureFiles(vni) {
  const response = await signedGet('/captures');
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`Capture files: HTTP ${response.status}`);
  const { Files: files } = await response.json();
  return files.filter((f) => String(f.Vni) === String(vni));
}

async function download(name, link) {
  const response = await signedGet(`/captures/${encodeURIComponent(name)}`);
  if (!response.ok) throw new Error(`Download of ${name}: HTTP ${response.status}`);
  const url = URL.createObjectURL(await response.blob());
  const a = h('a', { href: url, download: name });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  link.dataset.downloaded = 'yes';
}

function sizeText(bytes) {
  return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MiB`
    : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} B`;
}

export function captureFilesPanel(sessionId, vni) {
  const body = h('div', { class: 'capture-files', 'data-session': sessionId });
  const element = panel(h('h2', { class: 'section' }, 'Capture files'), body);
  (async () => {
    try {
      const files = await listCaptureFiles(vni);
      if (files === null) {
        clear(body, h('p', { class: 'help' }, 'This server shows no collector\'s files (tmirror ' +
          'up does). Point tshark, Wireshark, Zeek or Suricata at the target, or run tmirror collect.'));
        return;
      }
      if (files.length === 0) {
        clear(body, h('p', { class: 'help' }, `No capture files for VNI ${vni} yet.`));
        return;
      }
      const error = h('div', { class: 'form-error', role: 'alert', hidden: '' });
      const rows = files.map((f) => {
        const link = h('a', { href: '#', class: 'capture-download', 'data-name': f.Name }, f.Name);
        link.addEventListener('click', (event) => {
          event.preventDefault();
          download(f.Name, link).catch((e) => {
            error.hidden = false;
            clear(error, e.message);
          });
        });
        return h('tr', {}, h('td', {}, link), h('td', {}, sizeText(f.Bytes)),
          h('td', {}, f.Complete ? 'finished' : 'being written'),
          h('td', {}, new Date(f.Modified * 1000).toISOString().replace('T', ' ').slice(0, 19)));
      });
      clear(body, error, h('table', {},
        h('thead', {}, h('tr', {}, ['File', 'Size', 'State', 'Modified (UTC)'].map((t) => h('th', {}, t)))),
        h('tbody', {}, rows)));
    } catch (e) {
      clear(body, h('div', { class: 'form-error' }, e.message));
    }
  })();
  return element;
}
