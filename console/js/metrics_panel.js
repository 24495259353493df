// The monitoring panel of a session, an interface, an instance or a collector's interface:
// a period picker (1h … 1w from the server's metric history through CloudWatch
// GetMetricData, or Live from /metrics once a second), the charts, whether a session's copies
// reach its collector, and the raw totals its agent last pushed.
import { formatCount, formatMoment } from './chart_axes.js';
import { CloudWatchClient } from './cloudwatch_client.js';
import { counterFeed } from './counter_feed.js';
import { clear, h } from './dom.js';
import { chartsFor, COLLECTOR, deliveryOf, historyQueries, RANGES, ratePoints, totalsOf,
         windowOf } from './metric_series.js';
import { TimeChart } from './time_chart.js';

const RANGE_KEY = 'tmirror.chartRange';
const LIVE_SPAN_MS = 120000;
// A collector reports every 10 s: in live mode, copies are called lost only after this long.
const LIVE_JUDGE_MS = 25000;

function savedRange() {
  const key = sessionStorage.getItem(RANGE_KEY);
  return key === 'live' || RANGES.some((r) => r.key === key) ? key : '1h';
}

// kind: 'session' | 'interface' | 'instance' | 'collector'; liveIds: the resources whose
// agent counters add up to this one's in /metrics (an instance: its interfaces); target:
// {id, interfaceId, address} of a session's target (for the delivery check).
export function metricsPanel({ credentials, kind, id, liveIds = [id], target = null,
                               totals = kind === 'session' || kind === 'interface' }) {
  const cloudwatch = new CloudWatchClient(credentials);
  const specs = chartsFor(kind);
  const charts = specs.map((spec) => new TimeChart(spec));
  const allSeries = specs.flatMap((s) => s.series);
  let range = savedRange();
  let generation = 0;
  let refresh = null;
  let collectorKnown = false;
  const live = { points: [], before: null, since: 0, sent: 0, received: 0 };

  const status = h('p', { class: 'help counter-status', 'aria-live': 'polite' });
  const delivery = h('div', { class: 'delivery', 'data-delivery': 'idle' });
  const buttons = [...RANGES.map((r) => [r.key, r.label]), ['live', 'Live']].map(([key, label]) =>
    h('button', { type: 'button', 'data-range': key, 'aria-pressed': String(key === range),
                  onclick: () => choose(key) }, label));
  const totalsBody = h('tbody');
  const element = h('section', { class: 'monitoring', 'data-resource': id, 'data-range': range },
    h('div', { class: 'toolbar' }, h('h2', { class: 'section' }, 'Monitoring'),
      h('span', { class: 'spacer' }),
      h('div', { class: 'period-picker', role: 'group', 'aria-label': 'Period' }, buttons)),
    status, delivery, h('div', { class: 'charts' }, charts.map((c) => c.element)),
    totals ? [h('h2', { class: 'section' }, 'Counters (totals since the agent started)'),
      h('table', { class: 'counters' }, h('thead', {}, h('tr', {}, h('th', {}, 'Name'),
                                                          h('th', {}, 'Value'))), totalsBody)]
      : null);

  let lastDelivery = null;  // what showDelivery was last told, to tell again when more is known

  function showDelivery(sent, received, during) {
    lastDelivery = [sent, received, during];
    const state = deliveryOf(sent, received, collectorKnown);
    delivery.dataset.delivery = state;
    const where = target ? ` on ${target.interfaceId || target.id}` : '';
    if (state === 'lost') {
      clear(delivery, h('div', { class: 'warning', role: 'alert' },
        h('strong', {}, 'Copies are sent, none arrive. '),
        `The agent mirrored ${formatCount(sent)} packets ${during}, and the collector${where} ` +
        'received none of them. Check that the collector is running and listening on UDP 4789' +
        `${target?.address ? ` at ${target.address}` : ''}, and that no firewall between drops ` +
        'VXLAN.'));
    } else if (state === 'arriving') {
      clear(delivery, h('p', { class: 'help' }, `Sent ${formatCount(sent)} packets ${during}; ` +
        `the collector received ${formatCount(received)}.`));
    } else if (state === 'unknown') {
      clear(delivery, h('p', { class: 'help' }, `Sent ${formatCount(sent)} packets ${during}. ` +
        'The target is not a tmirror collector that reports to this server, so whether the ' +
        'copies arrive cannot be shown here.'));
    } else {
      clear(delivery);
    }
  }

  async function loadHistory() {
    const mine = ++generation;
    const r = RANGES.find((x) => x.key === range);
    const now = Date.now();
    const shown = windowOf(r, now);
    const { queries, keyOf } = historyQueries(specs, kind, id, r.period);
    let results;
    try {
      results = await cloudwatch.metricData(queries, shown.start, shown.end);
    } catch (e) {
      if (mine === generation) status.textContent = `Cannot read the metric history: ${e.code}: ${e.message}`;
      return;
    }
    if (mine !== generation) return;
    const points = ratePoints(results, keyOf, shown, r.period, now);
    for (const c of charts) c.set({ ...shown, live: false, points });
    status.textContent = `The last ${r.label}, ${r.period >= 3600 ? 'hourly' : r.period >= 300
      ? '5-minute' : '1-minute'} points; updated ${formatMoment(now, true)}.`;
    element.dataset.loaded = String(Number(element.dataset.loaded || 0) + 1);
    if (kind === 'session') {
      const sums = totalsOf(results, keyOf);
      showDelivery((sums.NetworkPacketsMirrorIn || 0) + (sums.NetworkPacketsMirrorOut || 0),
                   sums.CollectorDatagrams || 0, `in the last ${r.label}`);
    }
  }

  // A series' total in a snapshot: the agent counters of liveIds added up, or what the
  // collectors said they received of this session.
  function liveTotal(snapshot, s) {
    if (s.namespace === COLLECTOR && kind === 'session') {
      return snapshot.collectorSessions?.[id]?.[s.key];
    }
    let sum;
    for (const rid of liveIds) {
      const v = snapshot.counters[rid]?.[s.key];
      if (v !== undefined) sum = (sum || 0) + v;
    }
    return sum;
  }

  function onSnapshot(snapshot) {
    if (snapshot.error) {
      status.textContent = `Cannot read /metrics: ${snapshot.error}`;
      return;
    }
    const counters = snapshot.counters[id];
    if (!collectorKnown && target?.interfaceId &&
        snapshot.counters[target.interfaceId]?.CollectorHealthy === 1) {
      collectorKnown = true;
      if (lastDelivery) showDelivery(...lastDelivery);
    }
    if (totals) {
      const names = allSeries.filter((s) => s.namespace !== COLLECTOR).map((s) => s.key);
      clear(totalsBody, names.map((name) => h('tr', { 'data-counter': name },
        h('td', {}, name), h('td', { class: 'counter-value' },
          counters && counters[name] !== undefined ? String(counters[name]) : '–'))));
    }
    const now = {};
    for (const s of allSeries) now[s.key] = liveTotal(snapshot, s);
    const before = live.before;
    live.before = { time: snapshot.time, totals: now };
    if (range !== 'live') return;
    if (!allSeries.some((s) => now[s.key] !== undefined)) {
      status.textContent = 'Live: no counters yet (no agent has reported this resource).';
    } else {
      status.textContent = `Live, every second; updated ${formatMoment(snapshot.time, true)}.`;
    }
    if (!before) return;
    const seconds = (snapshot.time - before.time) / 1000;
    if (seconds <= 0) return;
    const values = {};
    for (const s of allSeries) {
      const a = before.totals[s.key];
      const b = now[s.key];
      // A total that went down (the host restarted) counts from zero.
      const delta = b === undefined ? null : a === undefined ? 0 : b >= a ? b - a : b;
      values[s.key] = delta === null ? null : delta / seconds;
      if (delta !== null && s.key === 'NetworkPacketsMirrorIn') live.sent += delta;
      if (delta !== null && s.key === 'NetworkPacketsMirrorOut') live.sent += delta;
      if (delta !== null && s.key === 'CollectorDatagrams') live.received += delta;
    }
    live.points.push({ time: snapshot.time, values });
    while (live.points.length && live.points[0].time < snapshot.time - LIVE_SPAN_MS) live.points.shift();
    for (const c of charts) {
      c.set({ start: snapshot.time - LIVE_SPAN_MS, end: snapshot.time, live: true, points: live.points });
    }
    if (kind === 'session' && snapshot.time - live.since >= LIVE_JUDGE_MS) {
      showDelivery(live.sent, live.received, `in the last ${Math.round((snapshot.time - live.since) / 1000)} s`);
    }
  }

  function choose(key) {
    range = key;
    sessionStorage.setItem(RANGE_KEY, key);
    element.dataset.range = key;
    for (const b of buttons) b.setAttribute('aria-pressed', String(b.dataset.range === key));
    clearInterval(refresh);
    generation += 1;
    clear(delivery);
    delivery.dataset.delivery = 'idle';
    lastDelivery = null;
    if (key === 'live') {
      Object.assign(live, { points: [], since: Date.now(), sent: 0, received: 0 });
      for (const c of charts) c.set({ start: 0, end: 0, live: true, points: [] });
      status.textContent = 'Live: waiting for counters…';
      return;
    }
    loadHistory();
    const r = RANGES.find((x) => x.key === key);
    refresh = setInterval(loadHistory, r.period <= 60 ? 15000 : 60000);
  }

  // Whether the target is a tmirror collector that reports here: it has receive history, or
  // some collector has received this session's copies (a load-balancer target's members).
  async function findCollector() {
    const asked = [];
    if (target?.interfaceId) asked.push([{ Name: 'NetworkInterfaceId', Value: target.interfaceId }]);
    asked.push([{ Name: 'TrafficMirrorSessionId', Value: id }]);
    for (const dimensions of asked) {
      try {
        if (!collectorKnown && (await cloudwatch.listMetrics(COLLECTOR, dimensions)).length > 0) {
          collectorKnown = true;
          if (lastDelivery) showDelivery(...lastDelivery);
        }
      } catch (_) { /* the charts say what failed */ }
    }
  }

  const onResize = () => { for (const c of charts) c.draw(); };
  window.addEventListener('resize', onResize);
  const unwatch = counterFeed.watch(onSnapshot);
  if (kind === 'session') findCollector();
  choose(range);
  return {
    element,
    stop() {
      generation += 1;
      clearInterval(refresh);
      unwatch();
      window.removeEventListener('resize', onResize);
    },
  };
}
