/** The plain-text table printed at the end of a run, also used for the README. */
import type { BenchResult } from '../types';

export function renderTable(r: BenchResult, markdown = false): string {
  const head = ['figure', 'value', 'unit', 'baseline', 'baseline value', 'ratio'];
  const body = r.figures.map((f) => [
    `${f.group}: ${f.name}`,
    String(f.value),
    f.unit,
    f.baseline ?? '',
    f.baselineValue === null || f.baselineValue === undefined ? '' : String(f.baselineValue),
    f.ratio === null || f.ratio === undefined ? '' : `${f.ratio}×`,
  ]);
  if (markdown) {
    return [
      `| ${head.join(' | ')} |`,
      `| ${head.map((_, i) => (i === 1 || i === 4 || i === 5 ? '---:' : '---')).join(' | ')} |`,
      ...body.map((row) => `| ${row.join(' | ')} |`),
    ].join('\n');
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    row.map((c, i) => (i === 1 || i === 4 || i === 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
