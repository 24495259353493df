// Agents and counters at a glance: registered hosts, what they cannot apply, and the mirrored
// and skipped rates of every interface and session an agent reports, from /metrics. Only
// resources that still exist are listed: the server keeps a deleted session's last counters.
import { counterFeed, ratesOf } from '../counter_feed.js';
import { clear, h, link } from '../dom.js';
import { formatRate } from '../chart_axes.js';
import { panel, titleBar } from '../page_parts.js';

const hrefOf = (id) => (id.startsWith('tms-') ? `#/sessions/${id}`
  : id.startsWith('eni-') ? `#/interfaces/${id}` : null);

export function renderMonitoring(main, { client }) {
  // The sessions and interfaces that exist, reloaded now and then (null until first known).
  let known = null;
  const loadKnown = async () => {
    try {
      const [sessions, interfaces] = await Promise.all([
        client.all('DescribeTrafficMirrorSessions', {}, 'trafficMirrorSessionSet'),
        client.all('DescribeNetworkInterfaces', {}, 'networkInterfaceSet')]);
      known = new Set([...sessions.map((x) => x.trafficMirrorSessionId),
                       ...interfaces.map((x) => x.networkInterfaceId)]);
    } catch (_) { /* keep the last list */ }
  };
  loadKnown();
  const reload = setInterval(loadKnown, 15000);
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
  const unwatch = counterFeed.watch((snapshot, previous) => {
    if (snapshot.error) {
      agents.textContent = `cannot read /metrics: ${snapshot.error}`;
      return;
    }
    agents.textContent = String(snapshot.registeredAgents ?? 0);
    clear(problems, snapshot.problems.length === 0
      ? h('tr', {}, h('td', { colspan: 3, class: 'empty' }, 'No problems reported.'))
      : snapshot.problems.map((p) => h('tr', {}, h('td', {}, link(`#/instances/${p.instanceId}`, p.instanceId)),
        h('td', {}, p.resourceId), h('td', {}, h('span', { class: 'badge bad' }, p.reason)))));
    // Agents' counters of resources that exist (a collector's interface reports its health
    // and receive counters instead: its own page charts those).
    const ids = Object.keys(snapshot.counters)
      .filter((id) => !('CollectorHealthy' in snapshot.counters[id]) && (!known || known.has(id)))
      .sort();
    clear(rows, ids.length === 0
      ? h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No agent has pushed counters yet.'))
      : ids.map((id) => {
        const r = ratesOf(id, snapshot, previous);
        const href = hrefOf(id);
        return h('tr', { 'data-resource': id }, h('td', {}, href ? link(href, id) : id),
          ['NetworkMirrorIn', 'NetworkMirrorOut', 'NetworkSkipMirrorIn', 'NetworkSkipMirrorOut']
            .map((n) => h('td', {}, formatRate(r[n], 'bytes/s'))),
          ['NetworkPacketsMirrorIn', 'NetworkPacketsMirrorOut']
            .map((n) => h('td', {}, formatRate(r[n], 'packets/s'))));
      }));
  });
  return () => {
    clearInterval(reload);
    unwatch();
  };
}
