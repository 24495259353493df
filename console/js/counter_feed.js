// The agents' counters as the server last received them, read from /metrics (the same numbers
// Prometheus scrapes) once a second and handed to whoever watches. One poll for the whole page.
import { parsePrometheus } from './prometheus.js';

export const MIRROR_COUNTERS = [
  'NetworkMirrorIn', 'NetworkMirrorOut', 'NetworkSkipMirrorIn', 'NetworkSkipMirrorOut',
  'NetworkPacketsMirrorIn', 'NetworkPacketsMirrorOut', 'NetworkPacketsSkipMirrorIn',
  'NetworkPacketsSkipMirrorOut',
];

// A snapshot: {time (ms), counters: {resourceId: {name: value}}, collectorSessions:
// {sessionId: {name: value summed over the collectors}}, registeredAgents, problems:
// [{instanceId, resourceId, reason}]}.
export function snapshotOf(samples, time) {
  const snapshot = { time, counters: {}, collectorSessions: {}, registeredAgents: null,
                     problems: [] };
  for (const s of samples) {
    if (s.name === 'tmirror_agent_counter') {
      (snapshot.counters[s.labels.resource_id] ||= {})[s.labels.name] = s.value;
    } else if (s.name === 'tmirror_collector_session_counter') {
      const into = (snapshot.collectorSessions[s.labels.session_id] ||= {});
      into[s.labels.name] = (into[s.labels.name] || 0) + s.value;
    } else if (s.name === 'tmirror_registered_agents') {
      snapshot.registeredAgents = s.value;
    } else if (s.name === 'tmirror_agent_problem' && s.value > 0) {
      snapshot.problems.push({ instanceId: s.labels.instance_id, resourceId: s.labels.resource_id,
                               reason: s.labels.reason });
    }
  }
  return snapshot;
}

export class CounterFeed {
  constructor({ url = '/metrics', intervalMs = 1000 } = {}) {
    this.url = url;
    this.intervalMs = intervalMs;
    this.watchers = new Set();
    this.timer = null;
    this.last = null;
  }

  // watcher(snapshot, previous) is called after every poll; returns the unwatch function.
  watch(watcher) {
    this.watchers.add(watcher);
    if (!this.timer) {
      this.timer = setInterval(() => this.poll(), this.intervalMs);
      this.poll();
    }
    return () => {
      this.watchers.delete(watcher);
      if (this.watchers.size === 0) {
        clearInterval(this.timer);
        this.timer = null;
        this.last = null;
      }
    };
  }

  async poll() {
    let snapshot;
    try {
      const response = await fetch(this.url, { cache: 'no-store' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      snapshot = snapshotOf(parsePrometheus(await response.text()), Date.now());
    } catch (error) {
      snapshot = { time: Date.now(), counters: {}, collectorSessions: {}, registeredAgents: null,
                   problems: [], error: error.message };
    }
    const previous = this.last;
    this.last = snapshot.error ? previous : snapshot;
    for (const watcher of this.watchers) watcher(snapshot, previous);
  }
}

export const counterFeed = new CounterFeed();

// Per-second rates of one resource's counters between two snapshots (0 where unknown; a
// counter that went down, as after an agent restart, counts from zero).
export function ratesOf(resourceId, snapshot, previous) {
  const rates = {};
  const now = snapshot?.counters[resourceId] || {};
  const before = previous?.counters[resourceId];
  const seconds = previous ? (snapshot.time - previous.time) / 1000 : 0;
  for (const name of MIRROR_COUNTERS) {
    if (!before || seconds <= 0 || now[name] === undefined) {
      rates[name] = 0;
      continue;
    }
    const delta = now[name] - (before[name] ?? 0);
    rates[name] = (delta >= 0 ? delta : now[name]) / seconds;
  }
  return rates;
}
