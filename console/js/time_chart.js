// A canvas line chart over time: a clock-time x axis, round value ticks in the chart's unit,
// and a legend that is also the read-out (the values at the moment under the pointer or the
// keyboard cursor, else the newest). Colours live in the stylesheet (.series-N): the legend
// swatches take them from there and the canvas reads them back, so no inline style is ever
// needed (the server's Content-Security-Policy forbids inline styles).
import { formatClock, formatMoment, formatRate, formatSi, niceTicks, timeTicks } from './chart_axes.js';
import { h } from './dom.js';

export class TimeChart {
  // series: [{key, label}]; unit: spelled out, e.g. 'packets/s'.
  constructor({ title, unit, series }) {
    this.title = title;
    this.unit = unit;
    this.series = series.map((s, i) => ({ ...s, index: i }));
    this.data = { start: 0, end: 0, live: false, points: [] };  // points: [{time, values}]
    this.cursor = null;  // index into points under the pointer or keyboard
    this.canvas = h('canvas', { width: 600, height: 200, tabindex: 0, role: 'img',
      'aria-label': `${title}: move the pointer or use the arrow keys to read values` });
    this.moment = h('span', { class: 'readout-time' });
    this.values = {};
    this.swatches = [];
    const legend = h('div', { class: 'legend' }, this.series.map((s) => {
      const swatch = h('i', { class: `swatch series-${s.index}`, 'aria-hidden': 'true' });
      this.swatches.push(swatch);
      this.values[s.key] = h('span', { class: 'legend-value', 'data-series': s.key }, '–');
      return h('span', { class: 'legend-item', 'data-series': s.key }, swatch, `${s.label} `,
               this.values[s.key]);
    }), this.moment);
    this.element = h('div', { class: 'chart', 'data-title': title, 'data-points': '0',
                              'data-unit': unit },
      h('h3', {}, title, h('span', { class: 'unit' }, ` (${unit})`)), this.canvas, legend);
    this.canvas.addEventListener('mousemove', (e) => this.pointAt(e.offsetX));
    this.canvas.addEventListener('mouseleave', () => this.setCursor(null));
    this.canvas.addEventListener('keydown', (e) => this.key(e));
    this.canvas.addEventListener('blur', () => this.setCursor(null));
    this.draw();
  }

  // data: {start, end (ms), live, points: [{time, values: {key: number|null}}] sorted by time}
  set(data) {
    this.data = data;
    if (this.cursor !== null && this.cursor >= data.points.length) this.cursor = null;
    const drawn = data.points.filter((p) => this.series.some((s) => p.values[s.key] != null));
    this.element.dataset.points = String(drawn.length);
    this.element.dataset.mode = data.live ? 'live' : 'history';
    const latest = drawn[drawn.length - 1];
    this.element.dataset.latest = JSON.stringify(latest ? latest.values : {});
    this.readout();
    this.draw();
  }

  setCursor(index) {
    this.cursor = index;
    this.readout();
    this.draw();
  }

  pointAt(offsetX) {
    const { points } = this.data;
    if (points.length === 0) return;
    const time = this.timeAt(offsetX);
    let best = 0;
    points.forEach((p, i) => {
      if (Math.abs(p.time - time) < Math.abs(points[best].time - time)) best = i;
    });
    this.setCursor(best);
  }

  key(event) {
    const n = this.data.points.length;
    if (n === 0) return;
    const moves = { ArrowLeft: -1, ArrowRight: 1, Home: -n, End: n };
    if (event.key === 'Escape') {
      this.setCursor(null);
      return;
    }
    if (!(event.key in moves)) return;
    event.preventDefault();
    const from = this.cursor ?? n - 1;
    this.setCursor(Math.max(0, Math.min(n - 1, from + moves[event.key])));
  }

  // The legend shows the cursor's values, else the newest point's.
  readout() {
    const { points } = this.data;
    let point = this.cursor !== null ? points[this.cursor] : null;
    if (!point) {
      for (let i = points.length - 1; i >= 0 && !point; i -= 1) {
        if (this.series.some((s) => points[i].values[s.key] != null)) point = points[i];
      }
    }
    for (const s of this.series) {
      const v = point?.values[s.key];
      this.values[s.key].textContent = v == null ? '–' : formatRate(v, this.unit);
    }
    this.moment.textContent = point
      ? `${this.cursor !== null ? 'at' : 'latest'} ${formatMoment(point.time, this.data.live)}` : '';
  }

  geometry() {
    const width = Math.max(280, this.canvas.clientWidth || 600);
    const height = this.canvas.clientHeight || 200;
    return { width, height, left: 58, right: width - 10, top: 10, bottom: height - 22 };
  }

  timeAt(offsetX) {
    const { left, right } = this.geometry();
    const { start, end } = this.data;
    return start + ((offsetX - left) / (right - left)) * (end - start);
  }

  colours() {
    return this.swatches.map((s) => getComputedStyle(s).backgroundColor);
  }

  draw() {
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const g = this.geometry();
    if (canvas.width !== Math.round(g.width * ratio) || canvas.height !== Math.round(g.height * ratio)) {
      canvas.width = Math.round(g.width * ratio);
      canvas.height = Math.round(g.height * ratio);
    }
    const c = canvas.getContext('2d');
    c.setTransform(ratio, 0, 0, ratio, 0, 0);
    c.clearRect(0, 0, g.width, g.height);
    const ink = getComputedStyle(this.element).color || '#5f6b7a';
    c.font = '11px system-ui, sans-serif';
    c.lineWidth = 1;
    const { start, end, points } = this.data;
    let max = 0;
    for (const p of points) {
      for (const s of this.series) max = Math.max(max, p.values[s.key] || 0);
    }
    const { top: yTop, ticks } = niceTicks(max, 4);
    const y = (v) => g.bottom - (v / yTop) * (g.bottom - g.top);
    c.textAlign = 'right';
    c.textBaseline = 'middle';
    for (const v of ticks) {
      c.strokeStyle = '#e9ebed';
      c.beginPath();
      c.moveTo(g.left, y(v));
      c.lineTo(g.right, y(v));
      c.stroke();
      c.fillStyle = ink;
      c.fillText(formatSi(v), g.left - 6, y(v));
    }
    if (end <= start) {
      c.textAlign = 'left';
      c.fillText('waiting for counters…', g.left + 10, (g.top + g.bottom) / 2);
      return;
    }
    const x = (t) => g.left + ((t - start) / (end - start)) * (g.right - g.left);
    const { step, ticks: times } = timeTicks(start, end, Math.max(3, Math.floor((g.right - g.left) / 90)));
    c.textAlign = 'center';
    c.textBaseline = 'top';
    for (const t of times) {
      c.strokeStyle = '#f2f3f3';
      c.beginPath();
      c.moveTo(x(t), g.top);
      c.lineTo(x(t), g.bottom);
      c.stroke();
      c.fillStyle = ink;
      c.fillText(formatClock(t, step), x(t), g.bottom + 5);
    }
    c.strokeStyle = '#aab7b8';
    c.beginPath();
    c.moveTo(g.left, g.bottom + 0.5);
    c.lineTo(g.right, g.bottom + 0.5);
    c.stroke();
    if (!points.some((p) => this.series.some((s) => p.values[s.key] != null))) {
      c.textAlign = 'left';
      c.textBaseline = 'middle';
      c.fillText('no data in this period', g.left + 10, (g.top + g.bottom) / 2);
    }
    const colours = this.colours();
    for (const s of this.series) {
      // A gap (null: nothing was reported for that time) breaks the line; a lone point is a dot.
      c.strokeStyle = c.fillStyle = colours[s.index];
      c.lineWidth = 2;
      let open = false;
      c.beginPath();
      points.forEach((p, i) => {
        const v = p.values[s.key];
        if (v == null) {
          open = false;
          return;
        }
        if (!open) {
          c.moveTo(x(p.time), y(v));
          const next = points[i + 1]?.values[s.key];
          if (next == null) c.arc(x(p.time), y(v), 1.5, 0, 2 * Math.PI);
          open = true;
        } else {
          c.lineTo(x(p.time), y(v));
        }
      });
      c.stroke();
    }
    if (this.cursor !== null && points[this.cursor]) {
      const p = points[this.cursor];
      c.strokeStyle = ink;
      c.lineWidth = 1;
      c.beginPath();
      c.moveTo(x(p.time), g.top);
      c.lineTo(x(p.time), g.bottom);
      c.stroke();
      for (const s of this.series) {
        const v = p.values[s.key];
        if (v == null) continue;
        c.fillStyle = colours[s.index];
        c.beginPath();
        c.arc(x(p.time), y(v), 3.5, 0, 2 * Math.PI);
        c.fill();
      }
    }
  }
}
