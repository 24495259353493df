// Instances: hosts whose agent registered (DescribeInstances), and per instance its Networking
// tab (DescribeNetworkInterfaces filtered by attachment.instance-id) and the agent's health.
import { counterFeed } from '../counter_feed.js';
import { loadCredentials } from '../credentials.js';
import { clear, h, idText, link } from '../dom.js';
import { addressesOf } from '../interface_choices.js';
import { metricsPanel } from '../metrics_panel.js';
import { PagedTable } from '../paged_table.js';
import { details, panel, resourceTitle, titleBar } from '../page_parts.js';
import { interfaceColumns } from './interfaces.js';

const instanceOf = (reservation) => reservation.instancesSet[0];

export function renderInstances(main, { client }) {
  const table = new PagedTable({
    id: 'instances-table', noun: 'instances',
    empty: 'No instances yet: run tmirror agent (or tmirror collect --server) on a host to ' +
      'register it.',
    columns: [
      { label: 'Instance ID', render: (i) => link(`#/instances/${i.instanceId}`, i.instanceId) },
      { label: 'Host name', render: (i) => i.privateDnsName || '-' },
      { label: 'Network interfaces', render: (i) => String((i.networkInterfaceSet || []).length) },
      { label: 'Addresses', render: (i) => (i.networkInterfaceSet || []).map(addressesOf).join('; ') },
    ],
    load: async (page) => {
      const r = await client.call('DescribeInstances', page);
      return { items: (r.reservationSet || []).map(instanceOf), nextToken: r.nextToken };
    },
  });
  clear(main, titleBar('Instances',
    h('button', { type: 'button', onclick: () => table.refresh() }, 'Refresh')),
  h('p', { class: 'help' }, 'Hosts running tmirror agent.'), table.element);
  table.refresh();
}

export async function renderInstance(main, { client, params: [id, tab = 'networking'] }) {
  const r = await client.call('DescribeInstances', { InstanceId: [id] });
  const instance = instanceOf(r.reservationSet[0]);
  const tabs = h('div', { class: 'tabs', role: 'tablist' },
    [['details', 'Details'], ['networking', 'Networking']].map(([key, label]) =>
      h('a', { href: `#/instances/${id}/${key}`, role: 'tab', class: key === tab ? 'active' : null,
               'aria-selected': String(key === tab) }, label)));
  const body = h('div', { class: 'tab-body', 'data-tab': tab });
  clear(main, titleBar(h('span', {}, 'Instance ', resourceTitle(instance.privateDnsName, id))), tabs,
    body);
  if (tab === 'networking') {
    const table = new PagedTable({
      id: 'instance-interfaces', columns: interfaceColumns.filter((c) => c.label !== 'Instance'),
      empty: 'No network interfaces are attached to this instance.',
      load: async (page) => {
        const answer = await client.call('DescribeNetworkInterfaces', {
          ...page, Filter: [{ Name: 'attachment.instance-id', Value: [id] }] });
        return { items: answer.networkInterfaceSet || [], nextToken: answer.nextToken };
      },
    });
    clear(body, h('h2', { class: 'section' }, 'Network interfaces'), table.element);
    table.refresh();
    return undefined;
  }
  const problems = h('tbody');
  const health = h('p', {});
  // AWS reports the mirroring metrics per instance: the sum over its interfaces.
  const monitor = metricsPanel({
    credentials: loadCredentials(), kind: 'instance', id,
    liveIds: (instance.networkInterfaceSet || []).map((e) => e.networkInterfaceId) });
  clear(body, panel(details([['Instance ID', idText(id)], ['Host name', instance.privateDnsName],
                             ['Owner', r.reservationSet[0].ownerId]])),
  panel(h('h2', { class: 'section' }, 'Agent health'), health,
    h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Resource'), h('th', {}, 'Problem'))),
      problems)), panel(monitor.element));
  const unwatch = counterFeed.watch((snapshot) => {
    const mine = snapshot.problems.filter((p) => p.instanceId === id);
    health.textContent = snapshot.error ? `Cannot read /metrics: ${snapshot.error}`
      : mine.length ? `The agent reports ${mine.length} problem(s).`
        : 'The agent reports no problems.';
    clear(problems, mine.map((p) => h('tr', {}, h('td', {}, p.resourceId), h('td', {}, p.reason))));
  });
  return () => {
    unwatch();
    monitor.stop();
  };
}
