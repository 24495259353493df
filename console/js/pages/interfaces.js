// Network interfaces: those agents registered (attached to an instance) and appliances made
// with CreateNetworkInterface (targets that only receive VXLAN).
import { counterView } from '../counter_view.js';
import { clear, h, link, nameOf } from '../dom.js';
import { ApiForm } from '../form.js';
import { PagedTable } from '../paged_table.js';
import { deleteButton, details, errorSlot, flash, panel, takeFlash, titleBar } from '../page_parts.js';
import { tagsPanel } from '../tags_panel.js';
import { tagSpecification, TagsEditor } from '../tags_editor.js';

export function addressesOf(eni) {
  return [eni.privateIpAddress, ...(eni.ipv6AddressesSet || []).map((a) => a.ipv6Address)]
    .filter(Boolean).join(', ') || '-';
}

export const interfaceColumns = [
  { label: 'Network interface ID', render: (e) => link(`#/interfaces/${e.networkInterfaceId}`,
                                                       e.networkInterfaceId) },
  { label: 'Name', render: nameOf },
  { label: 'MAC address', render: (e) => h('span', { class: 'mono' }, e.macAddress) },
  { label: 'Addresses', render: addressesOf },
  { label: 'Status', render: (e) => e.status },
  { label: 'Instance', render: (e) => (e.attachment?.instanceId
    ? link(`#/instances/${e.attachment.instanceId}`, e.attachment.instanceId) : '-') },
  { label: 'Description', render: (e) => e.description || '' },
];

export function renderInterfaces(main, { client }) {
  const table = new PagedTable({
    id: 'interfaces-table', columns: interfaceColumns,
    empty: 'No network interfaces: start an agent, or create one for an appliance.',
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
  const monitor = counterView(id);
  clear(main, titleBar(`${id} (${nameOf(eni)})`,
    deleteButton(`network interface ${id}`,
                 () => client.call('DeleteNetworkInterface', { NetworkInterfaceId: id }),
                 '#/interfaces', error)),
  takeFlash(), error,
  panel(details([
    ['Network interface ID', id], ['MAC address', eni.macAddress],
    ['Private IPv4 address', eni.privateIpAddress],
    ['IPv6 addresses', (eni.ipv6AddressesSet || []).map((a) => a.ipv6Address).join(', ')],
    ['Status', eni.status], ['Instance', eni.attachment?.instanceId],
    ['Subnet', eni.subnetId], ['Description', eni.description],
  ])),
  tagsPanel(client, id, eni.tagSet), panel(monitor.element));
  return monitor.stop;
}
