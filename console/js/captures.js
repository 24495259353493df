// Collector capture files of a session, with download links. The hook for the collector step:
// set `captureSource.list` to a function answering [{name, bytes, url, modified}] for a session
// (from wherever the collector publishes them); until then there are none to show.
import { clear, h } from './dom.js';
import { panel } from './page_parts.js';

export const captureSource = {
  available: false,
  list: async (/* sessionId */) => [],
};

export function captureFilesPanel(sessionId) {
  const body = h('div', { class: 'capture-files', 'data-session': sessionId });
  const element = panel(h('h2', { class: 'section' }, 'Capture files'), body);
  (async () => {
    if (!captureSource.available) {
      clear(body, h('p', { class: 'help' }, 'No collector reports capture files to this console ' +
        'yet. Point tshark, Wireshark, Zeek or Suricata at the target, or run tmirror collect.'));
      return;
    }
    try {
      const files = await captureSource.list(sessionId);
      clear(body, files.length === 0 ? h('p', { class: 'help' }, 'No capture files yet.')
        : h('table', {}, h('thead', {}, h('tr', {}, ['File', 'Size', 'Modified'].map((t) => h('th', {}, t)))),
          h('tbody', {}, files.map((f) => h('tr', {},
            h('td', {}, h('a', { href: f.url, download: f.name }, f.name)),
            h('td', {}, String(f.bytes)), h('td', {}, f.modified || ''))))));
    } catch (e) {
      clear(body, h('div', { class: 'form-error' }, e.message));
    }
  })();
  return element;
}
