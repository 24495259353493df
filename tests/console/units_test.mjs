// The console's pure helpers, without a browser: which form field an API error belongs to, the
// EC2 wire form of nested parameters, and /metrics parsing into per-second rates.
import './node_webcrypto.mjs';
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ratesOf, snapshotOf } from '../../console/js/counter_feed.js';
import { flatten } from '../../console/js/ec2_client.js';
import { fieldForError } from '../../console/js/field_errors.js';
import { parsePrometheus } from '../../console/js/prometheus.js';

const sessionFields = ['Name', 'Description', 'NetworkInterfaceId', 'TrafficMirrorTargetId',
  'TrafficMirrorFilterId', 'SessionNumber', 'VirtualNetworkId', 'PacketLength', 'Tags'];
const ruleFields = ['RuleNumber', 'RuleAction', 'Protocol', 'SourcePortRange.FromPort',
  'SourcePortRange.ToPort', 'DestinationPortRange.FromPort', 'DestinationPortRange.ToPort',
  'SourceCidrBlock', 'DestinationCidrBlock', 'Description'];

test('Errors that name their parameter go to that field (server messages verbatim)', () => {
  const at = (message, code = 'InvalidParameterValue', fields = sessionFields) =>
    fieldForError({ code, message }, fields);
  assert.equal(at('Value (40000) for parameter SessionNumber is invalid. Expected a value ' +
                  'between 1 and 32766.'), 'SessionNumber');
  assert.equal(at('Value (9000) for parameter PacketLength is invalid. Expected a value between ' +
                  '1 and 8500.'), 'PacketLength');
  assert.equal(at('The request must contain the parameter TrafficMirrorFilterId',
                  'MissingParameter'), 'TrafficMirrorFilterId');
  assert.equal(at('Value (99999) for parameter DestinationPortRange.FromPort is invalid. ' +
                  'Expected a value between 0 and 65535.', 'InvalidParameterValue', ruleFields),
               'DestinationPortRange.FromPort');
  assert.equal(at('DestinationPortRange: FromPort 90 is greater than ToPort 80.',
                  'InvalidParameterValue', ruleFields), 'DestinationPortRange.FromPort');
  assert.equal(at('Value (10.0.0.1/8) for parameter SourceCidrBlock is invalid: the address has ' +
                  'bits set past the prefix length.', 'InvalidParameterValue', ruleFields),
               'SourceCidrBlock');
});

test('Errors known by their code or wording go to the field they are about', () => {
  assert.equal(fieldForError({ code: 'InvalidParameterValue',
    message: 'Session number 1 is already used on eni-0123456789abcdef0 by tms-0123456789abcdef0.' },
  sessionFields), 'SessionNumber');
  assert.equal(fieldForError({ code: 'TrafficMirrorSessionsPerInterfaceLimitExceeded',
    message: 'Interface eni-0123456789abcdef0 already has 3 traffic mirror sessions.' },
  sessionFields), 'NetworkInterfaceId');
  assert.equal(fieldForError({ code: 'TrafficMirrorFilterRuleAlreadyExists',
    message: 'Rule number 100 is already used by tmfr-0123456789abcdef0.' }, ruleFields),
  'RuleNumber');
  assert.equal(fieldForError({ code: 'InvalidParameterCombination',
    message: 'Port ranges are only allowed with Protocol 6 (TCP) or 17 (UDP).' }, ruleFields),
  'Protocol');
  assert.equal(fieldForError({ code: 'InvalidParameterCombination',
    message: 'SourceCidrBlock and DestinationCidrBlock must both be IPv4 or both IPv6.' },
  ruleFields), 'SourceCidrBlock');
  assert.equal(fieldForError({ code: 'InvalidParameterValue',
    message: 'TagSpecification.1.Tag.1.Key: tag keys starting with \'aws:\' are reserved.' },
  sessionFields), 'Tags');
});

test('Errors about the request as a whole have no field', () => {
  assert.equal(fieldForError({ code: 'InternalError', message: 'An internal error has occurred.' },
                             sessionFields), null);
  assert.equal(fieldForError({ code: 'InvalidParameterValue',
    message: 'Value (x) for parameter Unrelated is invalid.' }, sessionFields), null);
});

test('Parameters flatten to the EC2 wire form; empty values are left out', () => {
  assert.deepEqual(flatten({
    NetworkInterfaceId: 'eni-1', PacketLength: '', Description: undefined,
    DestinationPortRange: { FromPort: '80', ToPort: '80' },
    SourcePortRange: { FromPort: '', ToPort: '' },
    TagSpecification: [{ ResourceType: 'traffic-mirror-session',
                         Tag: [{ Key: 'Name', Value: 'web' }] }],
    RemoveField: ['packet-length', 'description'],
  }), [
    ['NetworkInterfaceId', 'eni-1'],
    ['DestinationPortRange.FromPort', '80'], ['DestinationPortRange.ToPort', '80'],
    ['TagSpecification.1.ResourceType', 'traffic-mirror-session'],
    ['TagSpecification.1.Tag.1.Key', 'Name'], ['TagSpecification.1.Tag.1.Value', 'web'],
    ['RemoveField.1', 'packet-length'], ['RemoveField.2', 'description'],
  ]);
});

const metrics = (mirrored) => `# HELP tmirror_agent_counter The latest counters agents pushed
# TYPE tmirror_agent_counter gauge
tmirror_agent_counter{resource_id="tms-0123456789abcdef0",name="NetworkMirrorIn"} ${mirrored}
tmirror_agent_counter{resource_id="tms-0123456789abcdef0",name="NetworkPacketsMirrorIn"} 10
tmirror_registered_agents 2
tmirror_agent_problem{instance_id="i-1",resource_id="tms-0123456789abcdef0",reason="a \\"quoted\\" reason"} 1
`;

test('/metrics text becomes counters, agents and problems', () => {
  const snapshot = snapshotOf(parsePrometheus(metrics(1500)), 1000);
  assert.deepEqual(snapshot.counters, { 'tms-0123456789abcdef0': { NetworkMirrorIn: 1500,
                                                                  NetworkPacketsMirrorIn: 10 } });
  assert.equal(snapshot.registeredAgents, 2);
  assert.deepEqual(snapshot.problems, [{ instanceId: 'i-1', resourceId: 'tms-0123456789abcdef0',
                                         reason: 'a "quoted" reason' }]);
});

test('Rates are per second between two polls; a reset counts from zero', () => {
  const id = 'tms-0123456789abcdef0';
  const first = snapshotOf(parsePrometheus(metrics(1000)), 10000);
  const second = snapshotOf(parsePrometheus(metrics(5000)), 12000);
  assert.equal(ratesOf(id, second, first).NetworkMirrorIn, 2000);
  assert.equal(ratesOf(id, second, first).NetworkPacketsMirrorIn, 0);
  assert.equal(ratesOf(id, second, null).NetworkMirrorIn, 0);
  const reset = snapshotOf(parsePrometheus(metrics(400)), 14000);
  assert.equal(ratesOf(id, reset, second).NetworkMirrorIn, 200);
});
