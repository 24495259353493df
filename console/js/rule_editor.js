// The rules of one direction of a filter: listed by rule number, added, edited (Modify) and
// deleted through the API. Errors land next to the field of the rule form.
import { clear, h } from './dom.js';
import { ApiForm } from './form.js';
import { errorSlot } from './page_parts.js';

export const PROTOCOLS = [['', 'All protocols'], ['6', 'TCP (6)'], ['17', 'UDP (17)'],
  ['1', 'ICMP (1)'], ['58', 'ICMPv6 (58)'], ['47', 'GRE (47)'], ['50', 'ESP (50)'],
  ['132', 'SCTP (132)']];

const protocolName = (p) => (p === undefined ? 'All'
  : (PROTOCOLS.find(([v]) => v === p)?.[1] || `Protocol ${p}`));
const portRange = (r) => (r ? (r.fromPort === r.toPort ? r.fromPort : `${r.fromPort}-${r.toPort}`) : 'All');

// Wire parameters of a rule form's values; for a modify, what was cleared goes in RemoveField.
function ruleParams(v, before) {
  const params = {
    RuleNumber: v.RuleNumber, RuleAction: v.RuleAction, Protocol: v.Protocol,
    SourceCidrBlock: v.SourceCidrBlock, DestinationCidrBlock: v.DestinationCidrBlock,
    Description: v.Description,
    SourcePortRange: { FromPort: v['SourcePortRange.FromPort'], ToPort: v['SourcePortRange.ToPort'] },
    DestinationPortRange: { FromPort: v['DestinationPortRange.FromPort'],
                            ToPort: v['DestinationPortRange.ToPort'] },
  };
  if (before) {
    const removed = [];
    if (before.protocol !== undefined && v.Protocol === '') removed.push('protocol');
    if (before.sourcePortRange && !v['SourcePortRange.FromPort'] && !v['SourcePortRange.ToPort']) {
      removed.push('source-port-range');
    }
    if (before.destinationPortRange && !v['DestinationPortRange.FromPort'] &&
        !v['DestinationPortRange.ToPort']) removed.push('destination-port-range');
    if (before.description && v.Description === '') removed.push('description');
    params.RemoveField = removed;
  }
  return params;
}

export class RuleEditor {
  // direction: 'ingress' | 'egress'; onChange: reload the filter after a change.
  constructor({ client, filterId, direction, rules, onChange }) {
    this.client = client;
    this.filterId = filterId;
    this.direction = direction;
    this.onChange = onChange;
    this.editing = null;
    const title = direction === 'ingress' ? 'Inbound rules' : 'Outbound rules';
    this.error = errorSlot();
    this.body = h('tbody');
    this.form = new ApiForm({
      submitLabel: 'Add rule',
      fields: [
        { param: 'RuleNumber', label: 'Rule number', required: true, type: 'number',
          help: 'Rules are evaluated from the lowest number up; the first match decides.' },
        { param: 'RuleAction', label: 'Rule action', type: 'select',
          options: [['accept', 'Accept'], ['reject', 'Reject']] },
        { param: 'Protocol', label: 'Protocol', type: 'select', options: PROTOCOLS },
        { param: 'SourcePortRange.FromPort', label: 'Source port from', type: 'number' },
        { param: 'SourcePortRange.ToPort', label: 'Source port to', type: 'number' },
        { param: 'DestinationPortRange.FromPort', label: 'Destination port from', type: 'number' },
        { param: 'DestinationPortRange.ToPort', label: 'Destination port to', type: 'number' },
        { param: 'SourceCidrBlock', label: 'Source CIDR block', required: true, value: '0.0.0.0/0' },
        { param: 'DestinationCidrBlock', label: 'Destination CIDR block', required: true,
          value: '0.0.0.0/0' },
        { param: 'Description', label: 'Description' },
      ],
      onSubmit: (v) => this.save(v),
    });
    this.cancel = h('button', { type: 'button', class: 'cancel-edit', hidden: true,
                                onclick: () => this.stopEditing() }, 'Cancel edit');
    this.form.element.querySelector('.actions').append(' ', this.cancel);
    this.formTitle = h('h3', {}, `Add ${direction === 'ingress' ? 'an inbound' : 'an outbound'} rule`);
    this.element = h('section', { class: `rules panel`, 'data-direction': direction },
      h('h2', { class: 'section' }, title), this.error,
      h('div', { class: 'table-scroll' }, h('table', { class: 'rule-list' }, h('thead', {}, h('tr', {},
        ['Rule number', 'Action', 'Protocol', 'Source ports', 'Destination ports',
         'Source CIDR', 'Destination CIDR', 'Description', ''].map((t) => h('th', {}, t)))),
      this.body)),
      this.formTitle, this.form.element);
    this.show(rules);
  }

  show(rules) {
    const sorted = [...(rules || [])].sort((a, b) => Number(a.ruleNumber) - Number(b.ruleNumber));
    clear(this.body, sorted.length === 0
      ? h('tr', {}, h('td', { colspan: 9, class: 'empty' }, 'No rules: nothing is mirrored in this direction.'))
      : sorted.map((r) => h('tr', { 'data-rule': r.trafficMirrorFilterRuleId },
        h('td', {}, r.ruleNumber), h('td', {}, r.ruleAction), h('td', {}, protocolName(r.protocol)),
        h('td', {}, portRange(r.sourcePortRange)), h('td', {}, portRange(r.destinationPortRange)),
        h('td', {}, r.sourceCidrBlock), h('td', {}, r.destinationCidrBlock),
        h('td', {}, r.description || ''),
        h('td', {}, h('button', { type: 'button', class: 'edit-rule', onclick: () => this.edit(r) }, 'Edit'),
          ' ', h('button', { type: 'button', class: 'danger delete-rule', onclick: () => this.remove(r) },
            'Delete')))));
  }

  setValue(param, value) {
    this.form.element.querySelector(`[data-param="${param}"]`).value = value ?? '';
  }

  edit(rule) {
    this.editing = rule;
    this.form.clearErrors();
    this.setValue('RuleNumber', rule.ruleNumber);
    this.setValue('RuleAction', rule.ruleAction);
    this.setValue('Protocol', rule.protocol ?? '');
    this.setValue('SourcePortRange.FromPort', rule.sourcePortRange?.fromPort);
    this.setValue('SourcePortRange.ToPort', rule.sourcePortRange?.toPort);
    this.setValue('DestinationPortRange.FromPort', rule.destinationPortRange?.fromPort);
    this.setValue('DestinationPortRange.ToPort', rule.destinationPortRange?.toPort);
    this.setValue('SourceCidrBlock', rule.sourceCidrBlock);
    this.setValue('DestinationCidrBlock', rule.destinationCidrBlock);
    this.setValue('Description', rule.description);
    this.formTitle.textContent = `Edit rule ${rule.ruleNumber} (${rule.trafficMirrorFilterRuleId})`;
    this.form.submit.textContent = 'Save rule';
    this.cancel.hidden = false;
  }

  stopEditing() {
    this.editing = null;
    this.form.element.reset();
    this.form.clearErrors();
    this.formTitle.textContent =
      `Add ${this.direction === 'ingress' ? 'an inbound' : 'an outbound'} rule`;
    this.form.submit.textContent = 'Add rule';
    this.cancel.hidden = true;
  }

  async save(v) {
    if (this.editing) {
      await this.client.call('ModifyTrafficMirrorFilterRule', {
        TrafficMirrorFilterRuleId: this.editing.trafficMirrorFilterRuleId,
        ...ruleParams(v, this.editing) });
    } else {
      await this.client.call('CreateTrafficMirrorFilterRule', {
        TrafficMirrorFilterId: this.filterId, TrafficDirection: this.direction,
        ...ruleParams(v, null), ClientToken: crypto.randomUUID() });
    }
    this.stopEditing();
    await this.onChange();
  }

  async remove(rule) {
    if (!confirm(`Delete rule ${rule.ruleNumber}?`)) return;
    this.error.hidden = true;
    try {
      await this.client.call('DeleteTrafficMirrorFilterRule',
                             { TrafficMirrorFilterRuleId: rule.trafficMirrorFilterRuleId });
      await this.onChange();
    } catch (e) {
      this.error.textContent = `${e.code}: ${e.message}`;
      this.error.hidden = false;
    }
  }
}
