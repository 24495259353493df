// Mirror sessions: source interface, target, filter, session number, VNI, packet length. A
// session's page leads with its state and charts; its settings change behind Modify
// (ModifyTrafficMirrorSession; the source cannot change after creation).
import { captureFilesPanel } from '../captures.js';
import { counterFeed } from '../counter_feed.js';
import { loadCredentials } from '../credentials.js';
import { clear, h, idText, link, nameOf } from '../dom.js';
import { ApiForm } from '../form.js';
import { describeInterface, interfaceOptions } from '../interface_choices.js';
import { metricsPanel } from '../metrics_panel.js';
import { PagedTable } from '../paged_table.js';
import { deleteButton, details, errorSlot, flash, panel, resourceTitle, takeFlash,
         titleBar } from '../page_parts.js';
import { tagsPanel } from '../tags_panel.js';
import { tagSpecification, TagsEditor } from '../tags_editor.js';

export function renderSessions(main, { client }) {
  const table = new PagedTable({
    id: 'sessions-table', noun: 'mirror sessions',
    empty: 'No mirror sessions yet. A session copies the traffic of a network interface to a ' +
      'mirror target, through a mirror filter.',
    create: { label: 'Create mirror session', href: '#/sessions/new' },
    columns: [
      { label: 'Session ID', render: (s) => link(`#/sessions/${s.trafficMirrorSessionId}`,
                                                 s.trafficMirrorSessionId) },
      { label: 'Name', render: nameOf },
      { label: 'Source', render: (s) => link(`#/interfaces/${s.networkInterfaceId}`, s.networkInterfaceId) },
      { label: 'Target', render: (s) => link(`#/targets/${s.trafficMirrorTargetId}`, s.trafficMirrorTargetId) },
      { label: 'Filter', optional: true,
        render: (s) => link(`#/filters/${s.trafficMirrorFilterId}`, s.trafficMirrorFilterId) },
      { label: 'Session number', render: (s) => s.sessionNumber, sortKey: (s) => Number(s.sessionNumber) },
      { label: 'VNI', optional: true, render: (s) => s.virtualNetworkId,
        sortKey: (s) => Number(s.virtualNetworkId) },
      { label: 'Packet length', optional: true, render: (s) => s.packetLength || 'whole packet',
        sortKey: (s) => Number(s.packetLength || 1e9) },
      { label: 'Description', optional: true, render: (s) => s.description || '' },
    ],
    load: async (page) => {
      const r = await client.call('DescribeTrafficMirrorSessions', page);
      return { items: r.trafficMirrorSessionSet || [], nextToken: r.nextToken };
    },
  });
  clear(main, titleBar('Mirror sessions',
    h('button', { type: 'button', onclick: () => table.refresh() }, 'Refresh'),
    h('button', { type: 'button', class: 'primary', onclick: () => { location.hash = '#/sessions/new'; } },
      'Create mirror session')), takeFlash(), table.element);
  table.refresh();
}

const destinationOf = (t, interfaces) => {
  if (t.networkInterfaceId) {
    const eni = interfaces.find((e) => e.networkInterfaceId === t.networkInterfaceId);
    return eni ? describeInterface(eni) : t.networkInterfaceId;
  }
  return t.networkLoadBalancerArn || t.gatewayLoadBalancerEndpointId || '-';
};

async function choices(client) {
  const [interfaces, targets, filters] = await Promise.all([
    client.all('DescribeNetworkInterfaces', {}, 'networkInterfaceSet'),
    client.all('DescribeTrafficMirrorTargets', {}, 'trafficMirrorTargetSet'),
    client.all('DescribeTrafficMirrorFilters', {}, 'trafficMirrorFilterSet'),
  ]);
  return {
    interfaces: interfaceOptions(interfaces, 'source'),
    targets: targets.map((t) => [t.trafficMirrorTargetId,
      `${nameOf(t)} · to ${destinationOf(t, interfaces)} · ${t.trafficMirrorTargetId}`]),
    filters: filters.map((f) => [f.trafficMirrorFilterId,
      `${nameOf(f)} · ${(f.ingressFilterRuleSet || []).length} inbound, ` +
      `${(f.egressFilterRuleSet || []).length} outbound rules · ${f.trafficMirrorFilterId}`]),
  };
}

const settingFields = (c, s = {}) => [
  { param: 'TrafficMirrorTargetId', label: 'Mirror target', type: 'select', required: true,
    options: [['', 'Choose a target'], ...c.targets], value: s.trafficMirrorTargetId },
  { param: 'TrafficMirrorFilterId', label: 'Mirror filter', type: 'select', required: true,
    options: [['', 'Choose a filter'], ...c.filters], value: s.trafficMirrorFilterId },
  { param: 'SessionNumber', label: 'Session number', type: 'number', required: true,
    value: s.sessionNumber, help: '1-32766. Sessions of an interface are tried from the lowest ' +
    'number up; the first whose filter accepts a packet mirrors it.' },
  { param: 'VirtualNetworkId', label: 'VNI', type: 'number', value: s.virtualNetworkId,
    help: 'VXLAN network identifier; empty: a random unused one.' },
  { param: 'PacketLength', label: 'Packet length', type: 'number', value: s.packetLength,
    help: 'Bytes of each packet to mirror (1-8500); empty: the whole packet.' },
];

export async function renderNewSession(main, { client }) {
  const c = await choices(client);
  const tags = new TagsEditor();
  const form = new ApiForm({
    submitLabel: 'Create',
    extra: [tags.element],
    fields: [
      { param: 'Name', label: 'Name tag' },
      { param: 'Description', label: 'Description' },
      { param: 'NetworkInterfaceId', label: 'Mirror source (network interface)', type: 'select',
        required: true, options: [['', 'Choose a network interface'], ...c.interfaces],
        help: 'Host · interface · addresses · role · ID. Sources run tmirror agent.' },
      ...settingFields(c),
    ],
    onSubmit: async (v) => {
      const r = await client.call('CreateTrafficMirrorSession', {
        NetworkInterfaceId: v.NetworkInterfaceId, TrafficMirrorTargetId: v.TrafficMirrorTargetId,
        TrafficMirrorFilterId: v.TrafficMirrorFilterId, SessionNumber: v.SessionNumber,
        VirtualNetworkId: v.VirtualNetworkId, PacketLength: v.PacketLength,
        Description: v.Description,
        TagSpecification: tagSpecification('traffic-mirror-session', v.Name, tags.tags()),
        ClientToken: crypto.randomUUID(),
      });
      const id = r.trafficMirrorSession.trafficMirrorSessionId;
      flash(`Created mirror session ${id}.`);
      location.hash = '#/sessions';
    },
  });
  clear(main, titleBar('Create mirror session'), panel(form.element));
}

async function describeSession(client, id) {
  const r = await client.call('DescribeTrafficMirrorSessions', { TrafficMirrorSessionId: [id] });
  return r.trafficMirrorSessionSet[0];
}

// The session's target and, for an interface target, that interface (for the delivery check).
async function targetOf(client, s) {
  const t = (await client.call('DescribeTrafficMirrorTargets',
                               { TrafficMirrorTargetId: [s.trafficMirrorTargetId] }))
    .trafficMirrorTargetSet[0];
  let eni = null;
  if (t.networkInterfaceId) {
    eni = (await client.call('DescribeNetworkInterfaces',
                             { NetworkInterfaceId: [t.networkInterfaceId] })).networkInterfaceSet[0];
  }
  return { target: t, eni };
}

// The session's state, from what its source's agent last pushed: applied and counting, not
// applicable (with the agent's reason), or not (yet) reported.
function stateBadge(id) {
  const badge = h('span', { class: 'badge', id: 'session-state' }, 'checking…');
  const why = h('span', { class: 'help state-reason' });
  const stop = counterFeed.watch((snapshot) => {
    if (snapshot.error) return;
    const problems = snapshot.problems.filter((p) => p.resourceId === id);
    if (problems.length) {
      badge.className = 'badge bad';
      badge.textContent = 'Not applied';
      why.textContent = ` ${problems.map((p) => p.reason).join('; ')}`;
    } else if (snapshot.counters[id]) {
      badge.className = 'badge ok';
      badge.textContent = 'Active';
      why.textContent = ' The source\'s agent applies this session.';
    } else {
      badge.className = 'badge';
      badge.textContent = 'Pending';
      why.textContent = ' The source\'s agent has not reported this session (not running, or ' +
        'not yet updated).';
    }
  });
  return { element: h('span', {}, badge, why), stop };
}

export async function renderSession(main, { client, params: [id] }) {
  const s = await describeSession(client, id);
  const { target, eni } = await targetOf(client, s);
  const error = errorSlot();
  const state = stateBadge(id);
  const monitor = metricsPanel({
    credentials: loadCredentials(), kind: 'session', id,
    target: { id: target.trafficMirrorTargetId, interfaceId: target.networkInterfaceId,
              address: eni?.privateIpAddress } });
  clear(main, titleBar(resourceTitle(nameOf(s), id),
    h('a', { class: 'button modify', href: `#/sessions/${id}/modify` }, 'Modify'),
    deleteButton(`mirror session ${id}`,
                 () => client.call('DeleteTrafficMirrorSession', { TrafficMirrorSessionId: id }),
                 '#/sessions', error)),
  takeFlash(), error,
  panel(details([
    ['State', state.element],
    ['Session ID', idText(id)],
    ['Mirror source', link(`#/interfaces/${s.networkInterfaceId}`, s.networkInterfaceId)],
    ['Mirror target', h('span', {}, link(`#/targets/${target.trafficMirrorTargetId}`,
                                         target.trafficMirrorTargetId),
      eni ? ` (${describeInterface(eni)})` : target.networkLoadBalancerArn ? ' (collector group)' : '')],
    ['Mirror filter', link(`#/filters/${s.trafficMirrorFilterId}`, s.trafficMirrorFilterId)],
    ['Session number', s.sessionNumber], ['VNI', s.virtualNetworkId],
    ['Packet length', s.packetLength || 'whole packet'], ['Description', s.description],
    ['Owner', s.ownerId]])),
  panel(monitor.element), captureFilesPanel(id, s.virtualNetworkId),
  tagsPanel(client, id, s.tagSet));
  return () => {
    monitor.stop();
    state.stop();
  };
}

export async function renderModifySession(main, { client, params: [id] }) {
  const [s, c] = await Promise.all([describeSession(client, id), choices(client)]);
  const form = new ApiForm({
    submitLabel: 'Save changes',
    fields: [{ param: 'Description', label: 'Description', value: s.description },
             ...settingFields(c, s)],
    onSubmit: async (v) => {
      const removed = [];
      if (s.packetLength && v.PacketLength === '') removed.push('packet-length');
      if (s.description && v.Description === '') removed.push('description');
      await client.call('ModifyTrafficMirrorSession', {
        TrafficMirrorSessionId: id, TrafficMirrorTargetId: v.TrafficMirrorTargetId,
        TrafficMirrorFilterId: v.TrafficMirrorFilterId, SessionNumber: v.SessionNumber,
        VirtualNetworkId: v.VirtualNetworkId, PacketLength: v.PacketLength,
        Description: v.Description, RemoveField: removed });
      flash(`Saved the changes to mirror session ${id}.`);
      location.hash = `#/sessions/${id}`;
    },
  });
  form.element.querySelector('.actions').append(' ',
    h('a', { class: 'button', href: `#/sessions/${id}` }, 'Cancel'));
  clear(main, titleBar(`Modify ${resourceTitle(nameOf(s), id).textContent}`),
    panel(details([['Session ID', idText(id)],
                   ['Mirror source', link(`#/interfaces/${s.networkInterfaceId}`, s.networkInterfaceId)]]),
      h('p', { class: 'help' }, 'The source of a session cannot change; delete the session and ' +
        'create another.')),
    panel(form.element));
}
