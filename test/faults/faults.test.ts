/**
 * The short fault scenarios that disturb nothing shared (they kill and break
 * only their own worker, API and payment proxy), as CI tests. The scenarios
 * that stop Temporal, Postgres or Redis run from `./onsale faults`.
 */
import { describe as describeReport } from '../../scripts/faults/run';
import { SCENARIOS } from '../../scripts/faults/scenarios';

jest.setTimeout(240_000);

const safe = SCENARIOS.filter((s) => !s.sharedServices);

test.each(safe.map((s) => [s.name, s] as const))('%s: every buyer gets a final answer and the audit is clean', async (_name, scenario) => {
  const report = await scenario.run({ short: true, log: () => undefined });
  process.stdout.write(describeReport(report) + '\n');
  expect(report.audit.violations).toEqual(Object.fromEntries(Object.keys(report.audit.violations).map((k) => [k, 0])));
  expect(report.outcomes.unfinished + report.outcomes.gave_up).toBe(0);
  // Nobody was charged twice: the provider accepted one charge per paid hold, as the database records.
  expect(report.provider.providerCharges).toBe(report.provider.databaseCharges);
  expect(report.audit.totals.orders).toBe(report.outcomes.confirmed);
  expect(report.ordersVisible).toBe(report.outcomes.confirmed);
  expect(report.outcomes.confirmed).toBeGreaterThan(0);
  expect(report.ok).toBe(true);
});
