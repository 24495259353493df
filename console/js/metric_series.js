// What the charts plot, and how: the series of a session, an interface, an instance or a
// collector's interface (CloudWatch namespace, metric, dimension), the time ranges of the
// period picker, the GetMetricData queries for a range, and the per-second rates drawn from
// their Sums. No DOM: the unit tests run it in Node.

export const EC2 = 'AWS/EC2';
export const COLLECTOR = 'tmirror/Collector';

// The period picker: a range and the CloudWatch period its points are summed over (at most a
// few hundred points a chart).
export const RANGES = [
  { key: '1h', label: '1h', ms: 3600e3, period: 60 },
  { key: '3h', label: '3h', ms: 3 * 3600e3, period: 60 },
  { key: '12h', label: '12h', ms: 12 * 3600e3, period: 300 },
  { key: '1d', label: '1d', ms: 24 * 3600e3, period: 300 },
  { key: '1w', label: '1w', ms: 7 * 24 * 3600e3, period: 3600 },
];

const DIMENSION = { session: 'TrafficMirrorSessionId', interface: 'NetworkInterfaceId',
                    instance: 'InstanceId', collector: 'NetworkInterfaceId' };

const mirror = (what) => ['In', 'Out'].flatMap((way) => [
  { key: `Network${what}Mirror${way}`, label: `Mirrored ${way.toLowerCase()}`, namespace: EC2 },
  { key: `Network${what}SkipMirror${way}`, label: `Skipped ${way.toLowerCase()}`, namespace: EC2 },
]).map((s) => ({ ...s, metric: s.key }));

// The charts of a resource: [{title, unit, series: [{key, label, namespace, metric}]}]. A
// session's charts also carry what its collector received (tmirror/Collector, summed over the
// collectors of a load-balancer target).
export function chartsFor(kind) {
  if (kind === 'collector') {
    return [
      { title: 'Datagrams per second', unit: 'datagrams/s', series: [
        { key: 'CollectorDatagrams', label: 'Received', namespace: COLLECTOR, metric: 'Datagrams' },
        { key: 'CollectorDrops', label: 'Dropped', namespace: COLLECTOR, metric: 'Drops' }] },
      { title: 'Bytes per second', unit: 'bytes/s', series: [
        { key: 'CollectorBytes', label: 'Received', namespace: COLLECTOR, metric: 'Bytes' }] },
    ];
  }
  const received = (key, metric) => (kind === 'session'
    ? [{ key, label: 'Received by the collector', namespace: COLLECTOR, metric }] : []);
  return [
    { title: 'Packets per second', unit: 'packets/s',
      series: [...mirror('Packets'), ...received('CollectorDatagrams', 'Datagrams')] },
    { title: 'Bytes per second', unit: 'bytes/s',
      series: [...mirror(''), ...received('CollectorBytes', 'Bytes')] },
  ].map((chart) => ({ ...chart, series: order(chart.series) }));
}

// Mirrored in, mirrored out, skipped in, skipped out, then the collector's.
function order(series) {
  const rank = (s) => (s.namespace === COLLECTOR ? 9 : (s.label.startsWith('Skipped') ? 2 : 0) +
                       (s.label.endsWith('out') ? 1 : 0));
  return [...series].sort((a, b) => rank(a) - rank(b));
}

// GetMetricData queries (Sum per period) for every series of `charts`, and which query id is
// which series key.
export function historyQueries(charts, kind, id, period) {
  const queries = [];
  const keyOf = {};
  for (const chart of charts) {
    for (const s of chart.series) {
      if (Object.values(keyOf).includes(s.key)) continue;
      const queryId = `m${queries.length}`;
      keyOf[queryId] = s.key;
      queries.push({ Id: queryId, Label: s.key, ReturnData: true, MetricStat: {
        Metric: { Namespace: s.namespace, MetricName: s.metric,
                  Dimensions: [{ Name: DIMENSION[kind], Value: id }] },
        Period: period, Stat: 'Sum' } });
    }
  }
  return { queries, keyOf };
}

// The range shown for `range` at `now`: it ends at the end of the current period, so the
// period in progress is drawn too.
export function windowOf(range, now) {
  const step = range.period * 1000;
  const end = Math.ceil((now + 1) / step) * step;
  return { start: end - range.ms, end };
}

// Per-second rates of each period: its Sum over its length (the period in progress: over the
// part of it that has passed). A period with no datapoint is null: nothing was reported then
// (a gap), which is not the same as zero.
export function ratePoints(results, keyOf, { start, end }, period, now) {
  const step = period * 1000;
  const points = [];
  const index = new Map();
  for (let t = start; t < end; t += step) {
    index.set(t, points.length);
    points.push({ time: t, values: {} });
  }
  for (const [queryId, key] of Object.entries(keyOf)) {
    for (const p of points) p.values[key] = null;
    const r = results[queryId];
    if (!r) continue;
    r.timestamps.forEach((t, i) => {
      const at = index.get(t);
      if (at === undefined) return;
      const seconds = t + step > now ? Math.max(1, (now - t) / 1000) : period;
      points[at].values[key] = r.values[i] / seconds;
    });
  }
  return points;
}

// Sums over the range of each series key.
export function totalsOf(results, keyOf) {
  const totals = {};
  for (const [queryId, key] of Object.entries(keyOf)) {
    totals[key] = (results[queryId]?.values || []).reduce((a, b) => a + b, 0);
  }
  return totals;
}

// Whether the copies of a session reach its collector: 'unknown' (no tmirror collector reports
// for the target), 'idle' (nothing sent), 'lost' (sent, none received) or 'arriving'.
export function deliveryOf(sent, received, collectorKnown) {
  if (!(sent > 0)) return 'idle';
  if (received > 0) return 'arriving';
  return collectorKnown ? 'lost' : 'unknown';
}
