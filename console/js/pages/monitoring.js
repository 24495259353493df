// Agents and counters at a glance: registered hosts, what they cannot apply, and the mirrored
// and skipped rates of every interface and session an agent reports, from /metrics.
import { counterFeed, ratesOf } from '../counter_feed.js';
import { clear, h, link } from '../dom.js';
import { formatValue } from '../live_chart.js';
import { panel, titleBar } from '../page_parts.js';

const hrefOf = (id) => (id.startsWith('tms-') ? `#/sessions/${id}`
  : id.startsWith('eni-') ? `#/interfaces/${id}` : null);

export function renderMonitoring(main) {
  const agents = h('span', { class: 'badge', id: 'registered-agents' }, '…');
  const problems = h('tbody');
  const rows = h('tbody');
  clear(main, titleBar('Agents and counters'),
    panel(h('h2', { class: 'section' }, 'Agent health'),
      h('p', {}, 'Registered agents: ', agents),
      h('table', { id: 'agent-problems' }, h('thead', {}, h('tr', {},
        ['Instance', 'Resource', 'What the agent cannot apply'].map((t) => h('th', {}, t)))), problems)),
    panel(h('h2', { class: 'section' }, 'Mirroring now'),
      h('p', { class: 'help' }, 'Open an interface or a session for its live charts.'),
      h('table', { id: 'counter-summary' }, h('thead', {}, h('tr', {},
        ['Resource', 'Mirrored in', 'Mirrored out', 'Skipped in', 'Skipped out', 'Packets in',
         'Packets out'].map((t) => h('th', {}, t)))), rows)));
  return counterFeed.watch((snapshot, previous) => {
    if (snapshot.error) {
      agents.textContent = `cannot read /metrics: ${snapshot.error}`;
      return;
    }
    agents.textContent = String(snapshot.registeredAgents ?? 0);
    clear(problems, snapshot.problems.length === 0
      ? h('tr', {}, h('td', { colspan: 3, class: 'empty' }, 'No problems reported.'))
      : snapshot.problems.map((p) => h('tr', {}, h('td', {}, link(`#/instances/${p.instanceId}`, p.instanceId)),
        h('td', {}, p.resourceId), h('td', {}, h('span', { class: 'badge bad' }, p.reason)))));
    const ids = Object.keys(snapshot.counters).sort();
    clear(rows, ids.length === 0
      ? h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No agent has pushed counters yet.'))
      : ids.map((id) => {
        const r = ratesOf(id, snapshot, previous);
        const href = hrefOf(id);
        return h('tr', { 'data-resource': id }, h('td', {}, href ? link(href, id) : id),
          ['NetworkMirrorIn', 'NetworkMirrorOut', 'NetworkSkipMirrorIn', 'NetworkSkipMirrorOut']
            .map((n) => h('td', {}, formatValue(r[n], 'B/s'))),
          ['NetworkPacketsMirrorIn', 'NetworkPacketsMirrorOut']
            .map((n) => h('td', {}, formatValue(r[n], 'pkt/s'))));
      }));
  });
}
