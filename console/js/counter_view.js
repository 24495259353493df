// Live monitoring of one interface or session: bytes and packets per second, mirrored and
// skipped, each direction, plus the raw counters, from the counters its agent pushes.
import { counterFeed, MIRROR_COUNTERS, ratesOf } from './counter_feed.js';
import { clear, h } from './dom.js';
import { LiveChart } from './live_chart.js';

export function counterView(resourceId) {
  const bytes = new LiveChart({
    title: 'Bytes per second', unit: 'B/s',
    series: [{ key: 'NetworkMirrorIn', label: 'Mirrored in' },
             { key: 'NetworkMirrorOut', label: 'Mirrored out' },
             { key: 'NetworkSkipMirrorIn', label: 'Skipped in' },
             { key: 'NetworkSkipMirrorOut', label: 'Skipped out' }],
  });
  const packets = new LiveChart({
    title: 'Packets per second', unit: 'pkt/s',
    series: [{ key: 'NetworkPacketsMirrorIn', label: 'Mirrored in' },
             { key: 'NetworkPacketsMirrorOut', label: 'Mirrored out' },
             { key: 'NetworkPacketsSkipMirrorIn', label: 'Skipped in' },
             { key: 'NetworkPacketsSkipMirrorOut', label: 'Skipped out' }],
  });
  const totals = h('tbody');
  const status = h('p', { class: 'help counter-status' });
  const element = h('section', { class: 'monitoring', 'data-resource': resourceId },
    h('h2', { class: 'section' }, 'Monitoring'), status,
    h('div', { class: 'charts' }, bytes.element, packets.element),
    h('h2', { class: 'section' }, 'Counters (totals since the agent started)'),
    h('table', { class: 'counters' }, h('thead', {}, h('tr', {}, h('th', {}, 'Name'),
                                                      h('th', {}, 'Value'))), totals));
  const stop = counterFeed.watch((snapshot, previous) => {
    if (snapshot.error) {
      status.textContent = `Cannot read /metrics: ${snapshot.error}`;
      return;
    }
    const counters = snapshot.counters[resourceId];
    status.textContent = counters
      ? `Updated ${new Date(snapshot.time).toLocaleTimeString()}`
      : 'No counters yet: no agent has reported this resource.';
    const rates = ratesOf(resourceId, snapshot, previous);
    if (previous) {
      bytes.push(snapshot.time, rates);
      packets.push(snapshot.time, rates);
    }
    clear(totals, MIRROR_COUNTERS.map((name) => h('tr', { 'data-counter': name },
      h('td', {}, name), h('td', { class: 'counter-value' },
        counters && counters[name] !== undefined ? String(counters[name]) : '–'))));
  });
  return { element, stop };
}
