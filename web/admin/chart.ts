/** Rates per minute from the dashboard's samples, drawn as an inline SVG line chart. */
const NS = 'http://www.w3.org/2000/svg';

export interface Sample {
  at: number;
  values: Record<string, number>;
}

export interface Series {
  key: string;
  label: string;
  colour: string;
}

/** Per-minute rate of each series between samples `window` ms apart (never negative: counters only grow). */
export function ratesPerMinute(samples: Sample[], key: string, windowMs = 10_000): { at: number; rate: number }[] {
  const out: { at: number; rate: number }[] = [];
  let j = 0;
  for (let i = 1; i < samples.length; i++) {
    const s = samples[i]!;
    while (j < i - 1 && s.at - samples[j + 1]!.at >= windowMs) j++;
    const base = samples[j]!;
    const dt = s.at - base.at;
    if (dt <= 0) continue;
    out.push({ at: s.at, rate: Math.max(0, (((s.values[key] ?? 0) - (base.values[key] ?? 0)) * 60_000) / dt) });
  }
  return out;
}

const svg = <K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>) => {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
};

export function rateChart(samples: Sample[], series: Series[], width = 720, height = 220): SVGSVGElement {
  const pad = { l: 48, r: 12, t: 12, b: 24 };
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', class: 'rate-chart' });
  const lines = series.map((s) => ({ s, pts: ratesPerMinute(samples, s.key) }));
  const all = lines.flatMap((l) => l.pts);
  const t0 = samples[0]?.at ?? 0;
  const t1 = Math.max(samples[samples.length - 1]?.at ?? 1, t0 + 60_000);
  const max = Math.max(1, ...all.map((p) => p.rate));
  const x = (t: number) => pad.l + ((t - t0) / (t1 - t0)) * (width - pad.l - pad.r);
  const y = (v: number) => height - pad.b - (v / max) * (height - pad.t - pad.b);
  const title = svg('title', {});
  title.textContent = `Rates per minute: ${series.map((s) => s.label).join(', ')}`;
  root.append(title);
  for (const f of [0, 0.5, 1]) {
    root.append(svg('line', { x1: pad.l, x2: width - pad.r, y1: y(max * f), y2: y(max * f), stroke: '#d1d5db' }));
    const label = svg('text', { x: pad.l - 6, y: y(max * f) + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#4b5563' });
    label.textContent = String(Math.round(max * f));
    root.append(label);
  }
  const axis = svg('text', { x: width - pad.r, y: height - 6, 'text-anchor': 'end', 'font-size': 11, fill: '#4b5563' });
  axis.textContent = 'per minute, last 10 minutes';
  root.append(axis);
  for (const { s, pts } of lines) {
    if (pts.length < 1) continue;
    const d = pts.map((p, i) => `${i ? 'L' : 'M'}${x(p.at).toFixed(1)},${y(p.rate).toFixed(1)}`).join(' ');
    root.append(svg('path', { d, fill: 'none', stroke: s.colour, 'stroke-width': 2, 'data-series': s.key }));
  }
  return root;
}
