/** The self-contained HTML report: tables and inline SVG charts, no external assets. */
import type { BenchResult } from '../types';
import { barChart, lineChart, type Series } from './svg';

const esc = (s: string | number | null | undefined) =>
  String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');

/** The headline chart: each onsale path next to its baseline, requests per second, log scale. */
export function headlineChart(r: BenchResult): string {
  const groups = r.figures
    .filter((f) => f.chart && f.baselineValue !== null && f.baselineValue !== undefined)
    .map((f) => ({ label: f.chart!, values: { onsale: f.value, baseline: f.baselineValue! } }));
  return barChart('onsale vs baseline, per second, same run', groups, { yLabel: 'per second', log: true, width: 720, height: 300 });
}

export function renderHtml(r: BenchResult): string {
  const rows = r.figures
    .map(
      (f) =>
        `<tr><td>${esc(f.group)}</td><td>${esc(f.name)}</td><td class="n">${esc(f.value)}</td><td>${esc(f.unit)}</td>` +
        `<td>${esc(f.baseline ?? '')}</td><td class="n">${esc(f.baselineValue ?? '')}</td><td class="n">${f.ratio === null || f.ratio === undefined ? '' : `${f.ratio}×`}</td><td>${esc(f.note ?? '')}</td></tr>`,
    )
    .join('\n');
  const charts: string[] = [];
  charts.push(
    `<figure id="headline">${headlineChart(r)}<figcaption>Each bar pair: onsale's figure and its baseline, measured in this run.</figcaption></figure>`,
  );

  const http = r.details.http;
  if (http) {
    const series: Series[] = Object.entries(http.timelines).map(([name, points]) => ({ name, points }));
    charts.push(
      `<figure>${lineChart('HTTP throughput over time', series, { yLabel: 'requests/s' })}<figcaption>Each HTTP benchmark's successful requests per second, second by second.</figcaption></figure>`,
    );
  }
  const lat: { label: string; values: Record<string, number> }[] = [];
  for (const [label, s] of Object.entries(r.latencies)) lat.push({ label, values: { p50: s.p50, p90: s.p90, p99: s.p99 } });
  if (lat.length)
    charts.push(
      `<figure>${barChart('Latency percentiles', lat, { yLabel: 'ms', log: true, width: Math.max(560, lat.length * 70), height: 300 })}<figcaption>Latency percentiles per benchmark (ms, log scale).</figcaption></figure>`,
    );

  const holds = r.details.holds;
  if (holds) {
    const series: Series[] = holds.flatMap((h) => [{ name: `${h.strategy} held`, points: h.load.timeline.held ?? [] }]);
    charts.push(`<figure>${lineChart('Successful holds per second under contention', series, { yLabel: 'holds/s' })}</figure>`);
  }
  const sim = r.details.simulation;
  if (sim) {
    const t = sim.timeline;
    charts.push(
      `<figure>${lineChart('Flash crowd: throughput over time', [{ name: 'requests/s', points: t.requests ?? [] }], {
        yLabel: 'requests/s',
      })}</figure>`,
    );
    charts.push(
      `<figure>${lineChart(
        'Flash crowd: holds, orders, tickets',
        [
          { name: 'holds/s', points: t.holds ?? [] },
          { name: 'orders/s', points: t.purchases ?? [] },
          { name: 'tickets/s', points: t.tickets ?? [] },
          { name: 'declines/s', points: t.declined ?? [] },
        ],
        { yLabel: 'per second' },
      )}</figure>`,
    );
    charts.push(
      `<figure>${lineChart(
        'Waiting room: queue length and serving position',
        [
          { name: 'queue length', points: sim.queue.queueLength },
          { name: 'serving position', points: sim.queue.servingPosition },
        ],
        { yLabel: 'position' },
      )}</figure>`,
    );
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>onsale benchmark — ${esc(r.mode)} — ${esc(r.startedAt)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px}td.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f4f4f4;text-align:left}figure{display:inline-block;margin:8px 12px 16px 0;vertical-align:top}figcaption{font-size:12px;color:#555;max-width:560px}
pre{background:#f8f8f8;padding:8px;font-size:12px;overflow:auto}
</style></head><body>
<h1>onsale benchmark (${esc(r.mode)})</h1>
<p>${esc(r.startedAt)} · ${esc(r.seconds)} s · ${esc(r.machine.cpus)} × ${esc(r.machine.cpuModel)} · ${esc(r.machine.memoryGiB)} GiB · load average at start ${esc(r.machine.loadAverageAtStart.join(' / '))} ·
Node ${esc(r.versions.node)} · Postgres ${esc(r.versions.postgres)} · Redis ${esc(r.versions.redis)} · Temporal SDK ${esc(r.versions.temporalSdk)} · ${esc(r.versions.temporalServer)} · commit ${esc(r.versions.commit)}</p>
<h2>Figures and their baselines</h2>
<table><tr><th>group</th><th>figure</th><th>value</th><th>unit</th><th>baseline</th><th>baseline value</th><th>ratio</th><th>note</th></tr>
${rows}
</table>
<h2>Charts</h2>
${charts.join('\n')}
${sim ? `<h2>Flash-crowd simulation</h2><pre>${esc(JSON.stringify({ outcomes: sim.outcomes, fairness: sim.fairness, audit: sim.audit, actions: sim.actions, requests: sim.requests }, null, 2))}</pre>` : ''}
<h2>Notes</h2><ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>
</body></html>`;
}
