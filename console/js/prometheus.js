// Prometheus text exposition (the server's /metrics) into samples. Only what the console reads:
// `name{label="value",…} number` lines; comments and blank lines are skipped.

function parseLabels(text) {
  const labels = {};
  const pattern = /\s*([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/gy;
  let match;
  while ((match = pattern.exec(text)) !== null) {
    labels[match[1]] = match[2].replace(/\\(["\\n])/g, (_, c) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

export function parsePrometheus(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const value = Number(match[3]);
    if (Number.isNaN(value) && match[3] !== 'NaN') continue;
    samples.push({ name: match[1], labels: parseLabels(match[2] || ''), value });
  }
  return samples;
}
