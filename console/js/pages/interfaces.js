// Network interfaces: those agents registered (attached to an instance) and appliances made
// with CreateNetworkInterface (targets that only receive VXLAN).
import { loadCredentials } from '../credentials.js';
import { clear, h, idText, link, nameOf } from '../dom.js';
import { ApiForm } from '../form.js';
import { addressesOf, roleOf } from '../interface_choices.js';
import { metricsPanel } from '../metrics_panel.js';
import { PagedTable } from '../paged_table.js';
import { deleteButton, details, errorSlot, flash, panel, resourceTitle, takeFlash,
         titleBar } from '../page_parts.js';
import { tagsPanel } from '../tags_panel.js';
import { tagSpecification, TagsEditor } from '../tags_editor.js';

export const interfaceColumns = [
  { label: 'Network interface ID', render: (e) => link(`#/interfaces/${e.networkInterfaceId}`,
                                                       e.networkInterfaceId) },
  { label: 'Name', render: nameOf },
  { label: 'Role', render: roleOf },
  { label: 'MAC address', optional: true, render: (e) => h('span', { class: 'mono' }, e.macAddress) },
  { label: 'Addresses', render: addressesOf },
  { label: 'Status', optional: true, render: (e) => e.status },
  { label: 'Instance', render: (e) => (e.attachment?.instanceId
    ? link(`#/instances/${e.attachment.instanceId}`, e.attachment.instanceId) : '-') },
  { label: 'Description', optional: true, render: (e) => e.description || '' },
];

export function renderInterfaces(main, { client }) {
  const table = new PagedTable({
    id: 'interfaces-table', columns: interfaceColumns, noun: 'network interfaces',
    empty: 'No network interfaces yet: run tmirror agent on a host to register its interfaces, ' +
      'or create one for an appliance that receives copies.',
    create: { label: 'Create network interface', href: '#/interfaces/new' },
    load: async (page) => {
      const r = await client.call('DescribeNetworkInterfaces', page);
      return { items: r.networkInterfaceSet || [], nextToken: r.nextToken };
    },
  });
  clear(main, titleBar('Network interfaces',
    h('button', { type: 'button', onclick: () => table.refresh() }, 'Refresh'),
    h('button', { type: 'button', class: 'primary', onclick: () => { location.hash = '#/interfaces/new'; } },
      'Create network interface')), takeFlash(), table.element);
  table.refresh();
}

export function renderNewInterface(main, { client }) {
  const tags = new TagsEditor();
  const form = new ApiForm({
    submitLabel: 'Create network interface',
    extra: [tags.element],
    fields: [
      { param: 'Name', label: 'Name tag' },
      { param: 'Description', label: 'Description' },
      { param: 'SubnetId', label: 'Subnet ID', required: true, value: 'subnet-00000001',
        help: 'Any subnet-… ID: tmirror has no VPCs; it groups interfaces only.' },
      { param: 'PrivateIpAddress', label: 'Private IPv4 address',
        help: 'Where mirrored packets are sent when this interface is a target.' },
    ],
    onSubmit: async (v) => {
      const r = await client.call('CreateNetworkInterface', {
        SubnetId: v.SubnetId, PrivateIpAddress: v.PrivateIpAddress, Description: v.Description,
        TagSpecification: tagSpecification('network-interface', v.Name, tags.tags()),
        ClientToken: crypto.randomUUID(),
      });
      const id = r.networkInterface.networkInterfaceId;
      flash(`Created network interface ${id}.`);
      location.hash = `#/interfaces/${id}`;
    },
  });
  clear(main, titleBar('Create network interface'), panel(form.element));
}

export async function renderInterface(main, { client, params: [id] }) {
  const r = await client.call('DescribeNetworkInterfaces', { NetworkInterfaceId: [id] });
  const eni = r.networkInterfaceSet[0];
  const error = errorSlot();
  const role = roleOf(eni);
  const monitor = role === 'appliance' ? null : metricsPanel({
    credentials: loadCredentials(), kind: role === 'collector' ? 'collector' : 'interface', id });
  clear(main, titleBar(resourceTitle(nameOf(eni), id),
    deleteButton(`network interface ${id}`,
                 () => client.call('DeleteNetworkInterface', { NetworkInterfaceId: id }),
                 '#/interfaces', error)),
  takeFlash(), error,
  panel(details([
    ['Network interface ID', idText(id)], ['Role', role], ['MAC address', eni.macAddress],
    ['Private IPv4 address', eni.privateIpAddress],
    ['IPv6 addresses', (eni.ipv6AddressesSet || []).map((a) => a.ipv6Address).join(', ')],
    ['Status', eni.status],
    ['Instance', eni.attachment?.instanceId
      ? link(`#/instances/${eni.attachment.instanceId}`, eni.attachment.instanceId) : null],
    ['Subnet', eni.subnetId], ['Description', eni.description],
  ])),
  monitor ? panel(monitor.element) : panel(h('p', { class: 'help' }, 'An interface made with ' +
    'CreateNetworkInterface only receives copies; nothing on it reports counters.')),
  tagsPanel(client, id, eni.tagSet));
  return monitor ? monitor.stop : undefined;
}
