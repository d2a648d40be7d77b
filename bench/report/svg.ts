/** Small, dependency-free SVG charts for the HTML report. */

export interface Series {
  name: string;
  points: [number, number][];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const fmt = (v: number) => (Math.abs(v) >= 1000 ? `${Math.round(v / 100) / 10}k` : String(Math.round(v * 10) / 10));

export function lineChart(
  title: string,
  series: Series[],
  o: { xLabel?: string; yLabel?: string; width?: number; height?: number } = {},
): string {
  const W = o.width ?? 560;
  const H = o.height ?? 260;
  const m = { l: 56, r: 12, t: 28, b: 40 };
  const all = series.flatMap((s) => s.points);
  const xMax = niceMax(Math.max(1, ...all.map((p) => p[0])));
  const yMax = niceMax(Math.max(1, ...all.map((p) => p[1])));
  const x = (v: number) => m.l + (v / xMax) * (W - m.l - m.r);
  const y = (v: number) => H - m.b - (v / yMax) * (H - m.t - m.b);
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (f) =>
        `<line x1="${m.l}" x2="${W - m.r}" y1="${y(f * yMax)}" y2="${y(f * yMax)}" stroke="#ddd"/>` +
        `<text x="${m.l - 6}" y="${y(f * yMax) + 4}" text-anchor="end" font-size="11">${fmt(f * yMax)}</text>` +
        `<text x="${x(f * xMax)}" y="${H - m.b + 16}" text-anchor="middle" font-size="11">${fmt(f * xMax)}</text>`,
    )
    .join('');
  const lines = series
    .map((s, i) => {
      const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join('');
      return `<path d="${d}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2"/>`;
    })
    .join('');
  const legend = series
    .map(
      (s, i) =>
        `<rect x="${m.l + 8 + i * 130}" y="${m.t - 18}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>` +
        `<text x="${m.l + 22 + i * 130}" y="${m.t - 9}" font-size="11">${esc(s.name)}</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" role="img" aria-label="${esc(title)}">
<title>${esc(title)}</title>${grid}
<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#333"/><line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#333"/>
${lines}${legend}
<text x="${(W + m.l) / 2}" y="${H - 6}" text-anchor="middle" font-size="11">${esc(o.xLabel ?? 'seconds')}</text>
<text x="12" y="${(H - m.b + m.t) / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 12 ${(H - m.b + m.t) / 2})">${esc(o.yLabel ?? '')}</text>
</svg>`;
}

/** Grouped bars: one group per label, one bar per key (e.g. p50, p90, p99), log scale optional. */
export function barChart(
  title: string,
  groups: { label: string; values: Record<string, number> }[],
  o: { yLabel?: string; width?: number; height?: number; log?: boolean } = {},
): string {
  const W = o.width ?? 560;
  const H = o.height ?? 260;
  const m = { l: 56, r: 12, t: 28, b: 56 };
  const keys = [...new Set(groups.flatMap((g) => Object.keys(g.values)))];
  const vMax = Math.max(1, ...groups.flatMap((g) => Object.values(g.values)));
  const top = o.log ? 10 ** Math.ceil(Math.log10(vMax)) : niceMax(vMax);
  const scale = (v: number) => (o.log ? Math.max(0, Math.log10(Math.max(v, 0.1)) + 1) / (Math.log10(top) + 1) : v / top);
  const y = (v: number) => H - m.b - scale(v) * (H - m.t - m.b);
  const gw = (W - m.l - m.r) / Math.max(1, groups.length);
  const bw = Math.min(28, (gw - 10) / Math.max(1, keys.length));
  const ticks = o.log ? Array.from({ length: Math.log10(top) + 2 }, (_, i) => 10 ** (i - 1)) : [0, 0.25, 0.5, 0.75, 1].map((f) => f * top);
  const grid = ticks
    .map(
      (t) =>
        `<line x1="${m.l}" x2="${W - m.r}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/><text x="${m.l - 6}" y="${y(t) + 4}" text-anchor="end" font-size="11">${fmt(t)}</text>`,
    )
    .join('');
  const bars = groups
    .map((g, gi) => {
      const gx = m.l + gi * gw + (gw - bw * keys.length) / 2;
      const rects = keys
        .map((k, ki) => {
          const v = g.values[k] ?? 0;
          return `<rect x="${gx + ki * bw}" y="${y(v)}" width="${bw - 2}" height="${H - m.b - y(v)}" fill="${COLORS[ki % COLORS.length]}"><title>${esc(`${g.label} ${k}: ${v}`)}</title></rect>`;
        })
        .join('');
      return `${rects}<text x="${m.l + gi * gw + gw / 2}" y="${H - m.b + 16}" text-anchor="middle" font-size="11">${esc(g.label)}</text>`;
    })
    .join('');
  const legend = keys
    .map(
      (k, i) =>
        `<rect x="${m.l + 8 + i * 80}" y="${m.t - 18}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/><text x="${m.l + 22 + i * 80}" y="${m.t - 9}" font-size="11">${esc(k)}</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" role="img" aria-label="${esc(title)}">
<title>${esc(title)}</title>${grid}<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#333"/>${bars}${legend}
<text x="12" y="${(H - m.b + m.t) / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 12 ${(H - m.b + m.t) / 2})">${esc(o.yLabel ?? '')}${o.log ? ' (log)' : ''}</text>
</svg>`;
}
