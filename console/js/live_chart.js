// A hand-drawn canvas line chart of the last minute or so: one line per series, y axis scaled
// to the largest value shown, redrawn on every push.
import { h } from './dom.js';

const PALETTE = ['#0972d3', '#037f0c', '#d91515', '#b2911c', '#8456ce', '#e07941'];

export function formatValue(value, unit) {
  const steps = unit === 'B/s' ? ['B/s', 'KB/s', 'MB/s', 'GB/s'] : ['/s', 'k/s', 'M/s', 'G/s'];
  let i = 0;
  while (Math.abs(value) >= 1000 && i < steps.length - 1) {
    value /= 1000;
    i += 1;
  }
  const text = value >= 100 || Number.isInteger(value) ? value.toFixed(0) : value.toFixed(1);
  return `${text} ${steps[i]}`;
}

export class LiveChart {
  // series: [{key, label}]; unit: 'B/s' or 'pkt/s'
  constructor({ title, series, unit, capacity = 90 }) {
    this.series = series.map((s, i) => ({ ...s, color: s.color || PALETTE[i % PALETTE.length] }));
    this.unit = unit;
    this.capacity = capacity;
    this.points = [];  // [{time, values: {key: v}}]
    this.canvas = h('canvas', { width: 600, height: 180, role: 'img', 'aria-label': title });
    this.legendValues = {};
    const legend = h('div', { class: 'legend' }, this.series.map((s) => {
      this.legendValues[s.key] = h('span', { class: 'legend-value', 'data-series': s.key }, '–');
      return h('span', {}, h('i', { style: `background:${s.color}` }), `${s.label} `,
               this.legendValues[s.key]);
    }));
    this.element = h('div', { class: 'chart', 'data-title': title, 'data-points': '0' },
      h('h3', {}, title), this.canvas, legend);
    this.draw();
  }

  push(time, values) {
    this.points.push({ time, values });
    if (this.points.length > this.capacity) this.points.shift();
    for (const s of this.series) {
      this.legendValues[s.key].textContent = formatValue(values[s.key] || 0, this.unit);
    }
    this.element.dataset.points = String(this.points.length);
    this.element.dataset.latest = JSON.stringify(values);
    this.draw();
  }

  draw() {
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(300, canvas.clientWidth || 600);
    const height = canvas.clientHeight || 180;
    if (canvas.width !== Math.round(width * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const g = canvas.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    const left = 70;
    const bottom = height - 18;
    const top = 8;
    const right = width - 8;
    let max = 0;
    for (const p of this.points) {
      for (const s of this.series) max = Math.max(max, p.values[s.key] || 0);
    }
    max = max > 0 ? max * 1.15 : 1;
    g.font = '11px system-ui, sans-serif';
    g.fillStyle = '#5f6b7a';
    g.strokeStyle = '#e9ebed';
    g.lineWidth = 1;
    for (let i = 0; i <= 4; i += 1) {
      const y = bottom - ((bottom - top) * i) / 4;
      g.beginPath();
      g.moveTo(left, y);
      g.lineTo(right, y);
      g.stroke();
      g.fillText(formatValue((max * i) / 4, this.unit), 4, y + 4);
    }
    if (this.points.length === 0) {
      g.fillText('waiting for counters…', left + 10, (top + bottom) / 2);
      return;
    }
    // The window grows with the data (at least 10 s) up to the capacity, so a fresh chart
    // uses its whole width.
    const newest = this.points[this.points.length - 1].time;
    const span = Math.max(10000, Math.min(this.capacity * 1000, newest - this.points[0].time));
    g.fillText(`last ${Math.round(span / 1000)} s`, right - 60, height - 4);
    const x = (time) => right - ((newest - time) / span) * (right - left);
    for (const s of this.series) {
      g.strokeStyle = s.color;
      g.lineWidth = 2;
      g.beginPath();
      this.points.forEach((p, i) => {
        const y = bottom - ((p.values[s.key] || 0) / max) * (bottom - top);
        if (i === 0) g.moveTo(x(p.time), y);
        else g.lineTo(x(p.time), y);
      });
      g.stroke();
      // The newest value as a dot: visible from the first point on.
      const last = this.points[this.points.length - 1];
      g.fillStyle = s.color;
      g.beginPath();
      g.arc(x(last.time), bottom - ((last.values[s.key] || 0) / max) * (bottom - top), 3, 0, 2 * Math.PI);
      g.fill();
    }
  }
}
