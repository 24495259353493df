// Axis arithmetic and unit text for the charts: round value ticks (1, 2 or 5 times a power of
// ten), clock-time ticks at round intervals, SI prefixes and spelled-out units. No DOM: the
// unit tests run it in Node.

const SI = ['', 'k', 'M', 'G', 'T', 'P'];

// "1.5 k", "20 M", "0.25": at most three significant digits, trailing zeros dropped.
export function formatSi(value) {
  if (!Number.isFinite(value)) return '–';
  let v = Math.abs(value);
  let i = 0;
  while (v >= 999.5 && i < SI.length - 1) {
    v /= 1000;
    i += 1;
  }
  const digits = v >= 100 || v === 0 ? 0 : v >= 10 ? 1 : 2;
  const text = String(Number(v.toFixed(digits)));
  return `${value < 0 ? '-' : ''}${text}${SI[i] ? ` ${SI[i]}` : ''}`;
}

// "1.5 k packets/s", "3.2 M bytes/s", "0 packets/s". unit: 'packets/s', 'bytes/s', 'bytes'…
export function formatRate(value, unit) {
  return `${formatSi(value)} ${unit}`;
}

// Ticks from 0 to at least `max` at a round step, about `count` of them.
export function niceTicks(max, count = 4) {
  if (!(max > 0)) return { step: 1, top: 1, ticks: [0, 1] };
  const rough = max / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough) || 10 * power;
  const top = Math.ceil(max / step - 1e-9) * step;
  const ticks = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return { step, top, ticks };
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TIME_STEPS = [5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND, MINUTE, 2 * MINUTE,
  5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR,
  12 * HOUR, DAY];

// Tick times (ms) inside [start, end] at the smallest round interval giving at most `count`
// ticks. Intervals of an hour and less are round in local time ("14:30"); days fall at local
// midnight.
export function timeTicks(start, end, count = 6) {
  const span = end - start;
  const step = TIME_STEPS.find((s) => span / s <= count) || DAY * Math.ceil(span / DAY / count);
  const offset = new Date(start).getTimezoneOffset() * MINUTE;
  const local = start - offset;
  let first = Math.ceil(local / step) * step + offset;
  if (step >= DAY) {
    const midnight = new Date(start);
    midnight.setHours(24, 0, 0, 0);
    first = midnight.getTime();
  }
  const ticks = [];
  for (let t = first; t <= end; t += step) ticks.push(t);
  return { step, ticks };
}

const two = (n) => String(n).padStart(2, '0');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov',
  'Dec'];

// A tick's label: "14:05:30" for steps under a minute, "14:05" otherwise, "Dec 7" at local
// midnight when the ticks are a day or more apart (or the date changes at that tick).
export function formatClock(time, step) {
  const d = new Date(time);
  if (step >= DAY || (d.getHours() === 0 && d.getMinutes() === 0 && d.getSeconds() === 0 &&
                      step >= HOUR)) {
    return `${MONTHS[d.getMonth()]} ${d.getDate()}`;
  }
  const hm = `${two(d.getHours())}:${two(d.getMinutes())}`;
  return step < MINUTE ? `${hm}:${two(d.getSeconds())}` : hm;
}

// A moment for the hover read-out: "Dec 7 14:05" or "14:05:30" (live).
export function formatMoment(time, withSeconds) {
  const d = new Date(time);
  const hm = `${two(d.getHours())}:${two(d.getMinutes())}`;
  return withSeconds ? `${hm}:${two(d.getSeconds())}`
    : `${MONTHS[d.getMonth()]} ${d.getDate()} ${hm}`;
}

// A count for sentences: "1,234,567".
export function formatCount(value) {
  return Math.round(value).toLocaleString('en-US');
}
