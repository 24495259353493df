// Instances: hosts whose agent registered. The server has no DescribeInstances; an instance is
// known here by the interfaces attached to it (DescribeNetworkInterfaces, attachment.instance-id).
import { counterFeed } from '../counter_feed.js';
import { clear, h, link } from '../dom.js';
import { PagedTable } from '../paged_table.js';
import { panel, titleBar } from '../page_parts.js';
import { addressesOf, interfaceColumns } from './interfaces.js';

async function instancesOf(client) {
  const interfaces = await client.all('DescribeNetworkInterfaces', {}, 'networkInterfaceSet');
  const byInstance = new Map();
  for (const eni of interfaces) {
    const id = eni.attachment?.instanceId;
    if (!id) continue;
    if (!byInstance.has(id)) byInstance.set(id, []);
    byInstance.get(id).push(eni);
  }
  return [...byInstance.entries()].sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([instanceId, enis]) => ({ instanceId, enis }));
}

export async function renderInstances(main, { client }) {
  const all = await instancesOf(client);
  // Instances are few (one per host): paged locally over the list built above.
  const table = new PagedTable({
    id: 'instances-table',
    empty: 'No instances: run `tmirror agent` on a host to register it.',
    columns: [
      { label: 'Instance ID', render: (i) => link(`#/instances/${i.instanceId}`, i.instanceId) },
      { label: 'Network interfaces', render: (i) => String(i.enis.length) },
      { label: 'Addresses', render: (i) => i.enis.map(addressesOf).join('; ') },
    ],
    load: async ({ MaxResults, NextToken }) => {
      const start = Number(NextToken || 0);
      const items = all.slice(start, start + MaxResults);
      return { items, nextToken: start + MaxResults < all.length ? String(start + MaxResults)
                                                                  : undefined };
    },
  });
  clear(main, titleBar('Instances'), h('p', { class: 'help' },
    'Hosts running tmirror agent, as their registered network interfaces show them.'),
  table.element);
  table.refresh();
}

export async function renderInstance(main, { client, params: [id, tab = 'networking'] }) {
  const tabs = h('div', { class: 'tabs', role: 'tablist' },
    [['details', 'Details'], ['networking', 'Networking']].map(([key, label]) =>
      h('a', { href: `#/instances/${id}/${key}`, role: 'tab', class: key === tab ? 'active' : null,
               'aria-selected': String(key === tab) }, label)));
  const body = h('div', { class: 'tab-body', 'data-tab': tab });
  clear(main, titleBar(`Instance ${id}`), tabs, body);
  if (tab === 'networking') {
    const table = new PagedTable({
      id: 'instance-interfaces', columns: interfaceColumns.filter((c) => c.label !== 'Instance'),
      empty: 'No network interfaces are attached to this instance.',
      load: async (page) => {
        const r = await client.call('DescribeNetworkInterfaces', {
          ...page, Filter: [{ Name: 'attachment.instance-id', Value: [id] }] });
        return { items: r.networkInterfaceSet || [], nextToken: r.nextToken };
      },
    });
    clear(body, h('h2', { class: 'section' }, 'Network interfaces'), table.element);
    table.refresh();
    return undefined;
  }
  const problems = h('tbody');
  const health = h('p', {});
  clear(body, panel(h('h2', { class: 'section' }, 'Agent health'), health,
    h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Resource'), h('th', {}, 'Problem'))),
      problems)));
  return counterFeed.watch((snapshot) => {
    const mine = snapshot.problems.filter((p) => p.instanceId === id);
    health.textContent = snapshot.error ? `Cannot read /metrics: ${snapshot.error}`
      : mine.length ? `The agent reports ${mine.length} problem(s).`
        : 'The agent reports no problems.';
    clear(problems, mine.map((p) => h('tr', {}, h('td', {}, p.resourceId), h('td', {}, p.reason))));
  });
}
