/**
 * The benchmark's quick mode end to end, as CI runs it: every suite completes
 * against the real stack and the flash-crowd simulation leaves a clean
 * database audit. Figures are printed, never asserted: timings on a shared
 * 2-core machine are not a pass/fail signal.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, runBench, writeOutputs } from '../../bench/main';
import { renderTable } from '../../bench/report/table';

jest.setTimeout(420_000);

test('npm run bench -- --quick completes and its database audit passes', async () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'onsale-bench-'));
  const args = { ...parseArgs(['--quick', '--json', path.join(out, 'figures.json'), '--no-png']), out, quiet: true };
  const result = await runBench(args);
  const { files } = await writeOutputs(result, args);
  process.stdout.write(`${renderTable(result)}\n`);

  const sim = result.details.simulation!;
  expect(sim.audit.violations).toEqual(Object.fromEntries(Object.keys(sim.audit.violations).map((k) => [k, 0])));
  expect(sim.audit.ok).toBe(true);
  expect(result.ok).toBe(true);
  // Every suite produced its figures and the report files exist.
  expect(result.details.holds?.map((h) => h.strategy)).toEqual(['onsale', 'onsale-core', 'naive', 'optimistic', 'onsale-gated']);
  expect(result.details.temporal?.actions.workflows).toBeGreaterThan(0);
  expect(sim.ticketsSold).toBeGreaterThan(0);
  for (const f of files) expect(existsSync(f)).toBe(true);
  const json = JSON.parse(readFileSync(path.join(out, 'figures.json'), 'utf8'));
  expect(json.machine.cpus).toBeGreaterThan(0);
  expect(json.figures.length).toBeGreaterThan(10);
});
