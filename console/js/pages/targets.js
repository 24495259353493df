// Mirror targets: where copies go. The API changes a target's tags only.
import { clear, h, idText, link, nameOf } from '../dom.js';
import { ApiForm } from '../form.js';
import { interfaceOptions } from '../interface_choices.js';
import { PagedTable } from '../paged_table.js';
import { deleteButton, details, errorSlot, flash, panel, resourceTitle, takeFlash,
         titleBar } from '../page_parts.js';
import { tagsPanel } from '../tags_panel.js';
import { tagSpecification, TagsEditor } from '../tags_editor.js';

const destination = (t) => t.networkInterfaceId || t.networkLoadBalancerArn ||
  t.gatewayLoadBalancerEndpointId || '-';

export function renderTargets(main, { client }) {
  const table = new PagedTable({
    id: 'targets-table', noun: 'mirror targets',
    empty: 'No mirror targets yet. A target is where copies go: a collector\'s interface, an ' +
      'appliance, or a group of collectors behind a Network Load Balancer ARN.',
    create: { label: 'Create mirror target', href: '#/targets/new' },
    columns: [
      { label: 'Target ID', render: (t) => link(`#/targets/${t.trafficMirrorTargetId}`,
                                                t.trafficMirrorTargetId) },
      { label: 'Name', render: nameOf },
      { label: 'Type', render: (t) => t.type },
      { label: 'Destination', render: destination },
      { label: 'Description', optional: true, render: (t) => t.description || '' },
    ],
    load: async (page) => {
      const r = await client.call('DescribeTrafficMirrorTargets', page);
      return { items: r.trafficMirrorTargetSet || [], nextToken: r.nextToken };
    },
  });
  clear(main, titleBar('Mirror targets',
    h('button', { type: 'button', onclick: () => table.refresh() }, 'Refresh'),
    h('button', { type: 'button', class: 'primary', onclick: () => { location.hash = '#/targets/new'; } },
      'Create mirror target')), takeFlash(), table.element);
  table.refresh();
}

export async function renderNewTarget(main, { client }) {
  const interfaces = await client.all('DescribeNetworkInterfaces', {}, 'networkInterfaceSet');
  const tags = new TagsEditor();
  const form = new ApiForm({
    submitLabel: 'Create',
    extra: [tags.element],
    fields: [
      { param: 'Name', label: 'Name tag' },
      { param: 'Description', label: 'Description' },
      { param: 'Type', label: 'Target type', type: 'select',
        options: [['network-interface', 'Network interface'],
                  ['network-load-balancer', 'Network Load Balancer (collector group)']] },
      { param: 'NetworkInterfaceId', label: 'Network interface', type: 'select',
        options: [['', 'Choose a network interface'], ...interfaceOptions(interfaces, 'collector')],
        help: 'Host · interface · addresses · role · ID. Copies go to its IPv4 address, UDP 4789.' },
      { param: 'NetworkLoadBalancerArn', label: 'Network Load Balancer ARN',
        placeholder: 'arn:aws:elasticloadbalancing:…:loadbalancer/net/…' },
    ],
    onSubmit: async (v) => {
      const byInterface = v.Type === 'network-interface';
      const r = await client.call('CreateTrafficMirrorTarget', {
        NetworkInterfaceId: byInterface ? v.NetworkInterfaceId : undefined,
        NetworkLoadBalancerArn: byInterface ? undefined : v.NetworkLoadBalancerArn,
        Description: v.Description,
        TagSpecification: tagSpecification('traffic-mirror-target', v.Name, tags.tags()),
        ClientToken: crypto.randomUUID(),
      });
      const id = r.trafficMirrorTarget.trafficMirrorTargetId;
      flash(`Created mirror target ${id}.`);
      location.hash = `#/targets/${id}`;
    },
  });
  // Show only the destination field of the chosen type (both keep their values).
  const type = form.element.querySelector('[data-param="Type"]');
  const sync = () => {
    const nlb = type.value === 'network-load-balancer';
    form.element.querySelector('[data-field="NetworkInterfaceId"]').hidden = nlb;
    form.element.querySelector('[data-field="NetworkLoadBalancerArn"]').hidden = !nlb;
  };
  type.addEventListener('change', sync);
  sync();
  clear(main, titleBar('Create mirror target'), panel(form.element));
}

export async function renderTarget(main, { client, params: [id] }) {
  const r = await client.call('DescribeTrafficMirrorTargets', { TrafficMirrorTargetId: [id] });
  const t = r.trafficMirrorTargetSet[0];
  const error = errorSlot();
  clear(main, titleBar(resourceTitle(nameOf(t), id),
    deleteButton(`mirror target ${id}`,
                 () => client.call('DeleteTrafficMirrorTarget', { TrafficMirrorTargetId: id }),
                 '#/targets', error)),
  takeFlash(), error,
  panel(details([
    ['Target ID', idText(id)], ['Type', t.type],
    ['Network interface', t.networkInterfaceId
      ? link(`#/interfaces/${t.networkInterfaceId}`, t.networkInterfaceId) : null],
    t.networkLoadBalancerArn ? ['Network Load Balancer', t.networkLoadBalancerArn] : null,
    ['Description', t.description], ['Owner', t.ownerId],
  ]), h('p', { class: 'help' }, 'A target\'s description and destination cannot change; ' +
    'delete it and create another.')),
  tagsPanel(client, id, t.tagSet));
}
