// The charts' arithmetic, without a browser: axis ticks and unit text, the metric-history
// queries and the rates drawn from their Sums, the delivery verdict, and how interfaces are
// named in pickers.
//   node --test charts_test.mjs
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { formatClock, formatRate, formatSi, niceTicks, timeTicks } from '../../console/js/chart_axes.js';
import { snapshotOf } from '../../console/js/counter_feed.js';
import { describeInterface, interfaceOptions, roleOf } from '../../console/js/interface_choices.js';
import { chartsFor, deliveryOf, historyQueries, RANGES, ratePoints, totalsOf,
         windowOf } from '../../console/js/metric_series.js';
import { parsePrometheus } from '../../console/js/prometheus.js';

test('Values carry SI prefixes and spelled-out units', () => {
  assert.equal(formatSi(0), '0');
  assert.equal(formatSi(999), '999');
  assert.equal(formatSi(1000), '1 k');
  assert.equal(formatSi(1234), '1.23 k');
  assert.equal(formatSi(2.5e6), '2.5 M');
  assert.equal(formatSi(0.25), '0.25');
  assert.equal(formatRate(12345, 'packets/s'), '12.3 k packets/s');
  assert.equal(formatRate(3.2e9, 'bytes/s'), '3.2 G bytes/s');
});

test('Value ticks are round: 1, 2, 2.5 or 5 times a power of ten, from zero past the maximum', () => {
  assert.deepEqual(niceTicks(7).ticks, [0, 2, 4, 6, 8]);
  assert.deepEqual(niceTicks(1234).ticks, [0, 500, 1000, 1500]);
  assert.deepEqual(niceTicks(0.3).ticks, [0, 0.1, 0.2, 0.3]);
  assert.deepEqual(niceTicks(0).ticks, [0, 1]);
  for (const max of [1, 3, 9.9, 42, 777, 31415, 2.7e9]) {
    const { step, ticks } = niceTicks(max);
    assert.ok(ticks[ticks.length - 1] >= max && ticks.length <= 6, `${max}: ${ticks}`);
    const mantissa = step / 10 ** Math.floor(Math.log10(step));
    assert.ok([1, 2, 2.5, 5].some((m) => Math.abs(m - mantissa) < 1e-9), `${max}: step ${step}`);
  }
});

test('Time ticks fall on round clock times and read as clock times', () => {
  const end = new Date(2026, 11, 7, 23, 41, 13).getTime();
  const hour = timeTicks(end - 3600e3, end, 6);
  assert.equal(hour.step, 600e3);
  assert.deepEqual(hour.ticks.map((t) => formatClock(t, hour.step)),
                   ['22:50', '23:00', '23:10', '23:20', '23:30', '23:40']);
  const live = timeTicks(end - 120e3, end, 6);
  assert.deepEqual(live.ticks.map((t) => formatClock(t, live.step)),
                   ['23:39:30', '23:40:00', '23:40:30', '23:41:00']);
  const week = timeTicks(end - 7 * 86400e3, end, 7);
  assert.deepEqual(week.ticks.map((t) => formatClock(t, week.step)),
                   ['Dec 1', 'Dec 2', 'Dec 3', 'Dec 4', 'Dec 5', 'Dec 6', 'Dec 7']);
  const day = timeTicks(end - 86400e3, end, 8);
  assert.equal(formatClock(day.ticks[0], day.step), 'Dec 7', 'midnight shows the date');
  assert.equal(formatClock(day.ticks[1], day.step), '03:00');
});

test('History queries: a Sum per series and period, with the resource\'s dimension', () => {
  const charts = chartsFor('session');
  const { queries, keyOf } = historyQueries(charts, 'session', 'tms-0123456789abcdef0', 60);
  assert.equal(queries.length, 10, 'eight AWS/EC2 metrics and two of the collector');
  const byKey = Object.fromEntries(queries.map((q) => [keyOf[q.Id], q]));
  assert.deepEqual(byKey.NetworkPacketsMirrorIn.MetricStat, {
    Metric: { Namespace: 'AWS/EC2', MetricName: 'NetworkPacketsMirrorIn',
              Dimensions: [{ Name: 'TrafficMirrorSessionId', Value: 'tms-0123456789abcdef0' }] },
    Period: 60, Stat: 'Sum' });
  assert.equal(byKey.CollectorDatagrams.MetricStat.Metric.Namespace, 'tmirror/Collector');
  assert.equal(byKey.CollectorDatagrams.MetricStat.Metric.MetricName, 'Datagrams');
  for (const q of queries) assert.match(q.Id, /^[a-z][a-zA-Z0-9_]*$/, 'ids as GetMetricData wants them');
  const instance = historyQueries(chartsFor('instance'), 'instance', 'i-1', 300);
  assert.equal(instance.queries.length, 8);
  assert.equal(instance.queries[0].MetricStat.Metric.Dimensions[0].Name, 'InstanceId');
  const collector = historyQueries(chartsFor('collector'), 'collector', 'eni-1', 60);
  assert.deepEqual(collector.queries.map((q) => q.MetricStat.Metric.MetricName).sort(),
                   ['Bytes', 'Datagrams', 'Drops']);
});

test('Rates: Sum over the period, the period in progress over what has passed, gaps stay gaps', () => {
  const range = RANGES.find((r) => r.key === '1h');
  const now = Date.UTC(2026, 11, 7, 12, 30, 15);
  const shown = windowOf(range, now);
  assert.equal(shown.end, Date.UTC(2026, 11, 7, 12, 31), 'ends with the minute in progress');
  assert.equal(shown.end - shown.start, 3600e3);
  const minute = (m) => Date.UTC(2026, 11, 7, 12, m);
  const results = { m0: { timestamps: [minute(28), minute(30)], values: [600, 150] } };
  const points = ratePoints(results, { m0: 'NetworkPacketsMirrorIn' }, shown, 60, now);
  assert.equal(points.length, 60);
  const at = (m) => points.find((p) => p.time === minute(m)).values.NetworkPacketsMirrorIn;
  assert.equal(at(28), 10, '600 in a whole minute: 10 per second');
  assert.equal(at(29), null, 'no datapoint: a gap, not zero');
  assert.equal(at(30), 10, '150 in the 15 s of the minute so far');
  assert.deepEqual(totalsOf(results, { m0: 'NetworkPacketsMirrorIn' }), { NetworkPacketsMirrorIn: 750 });
});

test('Delivery: lost only when a known collector received none of what was sent', () => {
  assert.equal(deliveryOf(0, 0, true), 'idle');
  assert.equal(deliveryOf(100, 0, true), 'lost');
  assert.equal(deliveryOf(100, 0, false), 'unknown');
  assert.equal(deliveryOf(100, 97, true), 'arriving');
});

test('/metrics: the collectors\' per-session counts add up per session', () => {
  const text = `tmirror_collector_session_counter{session_id="tms-1",network_interface_id="eni-a",name="CollectorDatagrams"} 10
tmirror_collector_session_counter{session_id="tms-1",network_interface_id="eni-b",name="CollectorDatagrams"} 5
tmirror_agent_counter{resource_id="tms-1",name="NetworkPacketsMirrorIn"} 15
`;
  const snapshot = snapshotOf(parsePrometheus(text), 0);
  assert.deepEqual(snapshot.collectorSessions, { 'tms-1': { CollectorDatagrams: 15 } });
  assert.deepEqual(snapshot.counters, { 'tms-1': { NetworkPacketsMirrorIn: 15 } });
});

test('Interfaces are named by host, interface, addresses and role', () => {
  const source = { networkInterfaceId: 'eni-1', description: 'eth0 on web-1', privateIpAddress: '10.0.0.11',
                   ipv6AddressesSet: [{ ipv6Address: 'fd00::11' }], attachment: { instanceId: 'i-1' } };
  const collector = { networkInterfaceId: 'eni-2', privateIpAddress: '10.0.0.12',
                      description: 'eth1 on col-1 (tmirror collector: receives VXLAN, a target)',
                      attachment: { instanceId: 'i-2' } };
  const appliance = { networkInterfaceId: 'eni-3', privateIpAddress: '198.51.100.20',
                      tagSet: [{ key: 'Name', value: 'suricata' }] };
  assert.equal(describeInterface(source), 'web-1 · eth0 · 10.0.0.11, fd00::11 · source · eni-1');
  assert.equal(describeInterface(collector), 'col-1 · eth1 · 10.0.0.12 · collector · eni-2');
  assert.equal(describeInterface(appliance), 'suricata · 198.51.100.20 · appliance · eni-3');
  assert.deepEqual([source, collector, appliance].map(roleOf), ['source', 'collector', 'appliance']);
  const groups = interfaceOptions([source, collector, appliance], 'collector');
  assert.deepEqual(groups.map((g) => g.options[0][0]), ['eni-2', 'eni-1', 'eni-3'], 'collectors first');
});
