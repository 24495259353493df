// Mirror filters: the amazon-dns network service and the rule editor for each direction. A
// filter's description cannot change (the API has no such Modify).
import { clear, h, idText, link, nameOf } from '../dom.js';
import { ApiForm } from '../form.js';
import { PagedTable } from '../paged_table.js';
import { deleteButton, details, errorSlot, flash, panel, resourceTitle, takeFlash,
         titleBar } from '../page_parts.js';
import { RuleEditor } from '../rule_editor.js';
import { tagsPanel } from '../tags_panel.js';
import { tagSpecification, TagsEditor } from '../tags_editor.js';

const hasDns = (f) => (f.networkServiceSet || []).includes('amazon-dns');

export function renderFilters(main, { client }) {
  const table = new PagedTable({
    id: 'filters-table', noun: 'mirror filters',
    empty: 'No mirror filters yet. A filter\'s numbered rules say which packets of each ' +
      'direction a session mirrors.',
    create: { label: 'Create mirror filter', href: '#/filters/new' },
    columns: [
      { label: 'Filter ID', render: (f) => link(`#/filters/${f.trafficMirrorFilterId}`,
                                                f.trafficMirrorFilterId) },
      { label: 'Name', render: nameOf },
      { label: 'Inbound rules', render: (f) => String((f.ingressFilterRuleSet || []).length) },
      { label: 'Outbound rules', render: (f) => String((f.egressFilterRuleSet || []).length) },
      { label: 'Network services', render: (f) => (f.networkServiceSet || []).join(', ') || '-' },
      { label: 'Description', optional: true, render: (f) => f.description || '' },
    ],
    load: async (page) => {
      const r = await client.call('DescribeTrafficMirrorFilters', page);
      return { items: r.trafficMirrorFilterSet || [], nextToken: r.nextToken };
    },
  });
  clear(main, titleBar('Mirror filters',
    h('button', { type: 'button', onclick: () => table.refresh() }, 'Refresh'),
    h('button', { type: 'button', class: 'primary', onclick: () => { location.hash = '#/filters/new'; } },
      'Create mirror filter')), takeFlash(), table.element);
  table.refresh();
}

export function renderNewFilter(main, { client }) {
  const tags = new TagsEditor();
  const form = new ApiForm({
    submitLabel: 'Create',
    extra: [tags.element],
    fields: [
      { param: 'Name', label: 'Name tag' },
      { param: 'Description', label: 'Description' },
      { param: 'AmazonDns', label: 'Mirror amazon-dns (the hosts\' DNS resolver traffic)',
        type: 'checkbox' },
    ],
    onSubmit: async (v) => {
      const r = await client.call('CreateTrafficMirrorFilter', {
        Description: v.Description,
        TagSpecification: tagSpecification('traffic-mirror-filter', v.Name, tags.tags()),
        ClientToken: crypto.randomUUID(),
      });
      const id = r.trafficMirrorFilter.trafficMirrorFilterId;
      if (v.AmazonDns) {
        await client.call('ModifyTrafficMirrorFilterNetworkServices',
                          { TrafficMirrorFilterId: id, AddNetworkService: ['amazon-dns'] });
      }
      flash(`Created mirror filter ${id}. Add its inbound and outbound rules below.`);
      location.hash = `#/filters/${id}`;
    },
  });
  clear(main, titleBar('Create mirror filter'), panel(form.element));
}

export async function renderFilter(main, { client, params: [id] }) {
  const load = async () => (await client.call('DescribeTrafficMirrorFilters',
                                              { TrafficMirrorFilterId: [id] })).trafficMirrorFilterSet[0];
  let filter = await load();
  const error = errorSlot();
  const editors = ['ingress', 'egress'].map((direction) => new RuleEditor({
    client, filterId: id, direction, rules: filter[`${direction}FilterRuleSet`],
    onChange: async () => {
      filter = await load();
      for (const e of editors) e.show(filter[`${e.direction}FilterRuleSet`]);
    },
  }));
  const dns = h('input', { type: 'checkbox', id: 'amazon-dns', checked: hasDns(filter) });
  const dnsError = errorSlot();
  dns.addEventListener('change', async () => {
    dnsError.hidden = true;
    try {
      await client.call('ModifyTrafficMirrorFilterNetworkServices', {
        TrafficMirrorFilterId: id,
        [dns.checked ? 'AddNetworkService' : 'RemoveNetworkService']: ['amazon-dns'] });
    } catch (e) {
      dns.checked = !dns.checked;
      dnsError.textContent = `${e.code}: ${e.message}`;
      dnsError.hidden = false;
    }
  });
  clear(main, titleBar(resourceTitle(nameOf(filter), id),
    deleteButton(`mirror filter ${id}`,
                 () => client.call('DeleteTrafficMirrorFilter', { TrafficMirrorFilterId: id }),
                 '#/filters', error)),
  takeFlash(), error,
  panel(details([['Filter ID', idText(id)], ['Description', filter.description]]),
    h('h2', { class: 'section' }, 'Network services'), dnsError,
    h('label', {}, dns, ' amazon-dns: mirror all traffic to and from the hosts\' DNS resolvers')),
  editors.map((e) => e.element),
  tagsPanel(client, id, filter.tagSet));
}
