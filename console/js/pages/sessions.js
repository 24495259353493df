// Mirror sessions: source interface, target, filter, session number, VNI, packet length. The
// source cannot change after creation; the rest can (ModifyTrafficMirrorSession).
import { captureFilesPanel } from '../captures.js';
import { counterView } from '../counter_view.js';
import { clear, h, link, nameOf } from '../dom.js';
import { ApiForm } from '../form.js';
import { PagedTable } from '../paged_table.js';
import { deleteButton, details, errorSlot, flash, notice, panel, takeFlash, titleBar } from '../page_parts.js';
import { tagsPanel } from '../tags_panel.js';
import { tagSpecification, TagsEditor } from '../tags_editor.js';

export function renderSessions(main, { client }) {
  const table = new PagedTable({
    id: 'sessions-table', empty: 'No mirror sessions.',
    columns: [
      { label: 'Session ID', render: (s) => link(`#/sessions/${s.trafficMirrorSessionId}`,
                                                 s.trafficMirrorSessionId) },
      { label: 'Name', render: nameOf },
      { label: 'Source', render: (s) => link(`#/interfaces/${s.networkInterfaceId}`, s.networkInterfaceId) },
      { label: 'Target', render: (s) => link(`#/targets/${s.trafficMirrorTargetId}`, s.trafficMirrorTargetId) },
      { label: 'Filter', render: (s) => link(`#/filters/${s.trafficMirrorFilterId}`, s.trafficMirrorFilterId) },
      { label: 'Session number', render: (s) => s.sessionNumber },
      { label: 'VNI', render: (s) => s.virtualNetworkId },
      { label: 'Packet length', render: (s) => s.packetLength || 'whole packet' },
      { label: 'Description', render: (s) => s.description || '' },
    ],
    load: async (page) => {
      const r = await client.call('DescribeTrafficMirrorSessions', page);
      return { items: r.trafficMirrorSessionSet || [], nextToken: r.nextToken };
    },
  });
  clear(main, titleBar('Mirror sessions',
    h('button', { type: 'button', onclick: () => table.refresh() }, 'Refresh'),
    h('button', { type: 'button', class: 'primary', onclick: () => { location.hash = '#/sessions/new'; } },
      'Create session')), takeFlash(), table.element);
  table.refresh();
}

async function choices(client) {
  const [interfaces, targets, filters] = await Promise.all([
    client.all('DescribeNetworkInterfaces', {}, 'networkInterfaceSet'),
    client.all('DescribeTrafficMirrorTargets', {}, 'trafficMirrorTargetSet'),
    client.all('DescribeTrafficMirrorFilters', {}, 'trafficMirrorFilterSet'),
  ]);
  return {
    interfaces: interfaces.map((e) => [e.networkInterfaceId,
      `${e.networkInterfaceId} (${nameOf(e)}${e.attachment ? `, ${e.attachment.instanceId}` : ''})`]),
    targets: targets.map((t) => [t.trafficMirrorTargetId, `${t.trafficMirrorTargetId} (${nameOf(t)})`]),
    filters: filters.map((f) => [f.trafficMirrorFilterId, `${f.trafficMirrorFilterId} (${nameOf(f)})`]),
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
        required: true, options: [['', 'Choose a network interface'], ...c.interfaces] },
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

export async function renderSession(main, { client, params: [id] }) {
  const [r, c] = await Promise.all([
    client.call('DescribeTrafficMirrorSessions', { TrafficMirrorSessionId: [id] }), choices(client)]);
  let s = r.trafficMirrorSessionSet[0];
  const error = errorSlot();
  const saved = h('div', {});
  const form = new ApiForm({
    submitLabel: 'Save changes',
    fields: [{ param: 'Description', label: 'Description', value: s.description },
             ...settingFields(c, s)],
    onSubmit: async (v) => {
      const removed = [];
      if (s.packetLength && v.PacketLength === '') removed.push('packet-length');
      if (s.description && v.Description === '') removed.push('description');
      const answer = await client.call('ModifyTrafficMirrorSession', {
        TrafficMirrorSessionId: id, TrafficMirrorTargetId: v.TrafficMirrorTargetId,
        TrafficMirrorFilterId: v.TrafficMirrorFilterId, SessionNumber: v.SessionNumber,
        VirtualNetworkId: v.VirtualNetworkId, PacketLength: v.PacketLength,
        Description: v.Description, RemoveField: removed });
      s = answer.trafficMirrorSession;
      clear(saved, notice('Saved.'));
    },
  });
  const monitor = counterView(id);
  clear(main, titleBar(`${id} (${nameOf(s)})`,
    deleteButton(`mirror session ${id}`,
                 () => client.call('DeleteTrafficMirrorSession', { TrafficMirrorSessionId: id }),
                 '#/sessions', error)),
  takeFlash(), error,
  panel(details([
    ['Session ID', id],
    ['Mirror source', link(`#/interfaces/${s.networkInterfaceId}`, s.networkInterfaceId)],
    ['Owner', s.ownerId]])),
  panel(h('h2', { class: 'section' }, 'Settings'), saved, form.element),
  tagsPanel(client, id, s.tagSet), panel(monitor.element), captureFilesPanel(id, s.virtualNetworkId));
  return monitor.stop;
}
