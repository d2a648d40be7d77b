/**
 * ./onsale faults [--short] [scenario...]
 *
 * Runs the fault scenarios one after another and prints, for each, what was
 * in flight, how the buyers' checkouts ended, the recovery time and the
 * audit; exits non-zero if any audit failed. The scenarios that stop a
 * shared service (Temporal, Postgres, Redis) restore it before they finish.
 */
import { SCENARIOS, type ScenarioReport } from './scenarios';

function table(reports: ScenarioReport[]): string {
  const rows = [
    [
      'scenario',
      'fault ms',
      'recovery ms',
      'audit clean ms',
      'confirmed',
      'declined',
      'other',
      'retries',
      'charges (provider/db)',
      'audit',
    ],
    ...reports.map((r) => [
      r.name,
      String(r.faultMs),
      String(r.recoveryMs),
      String(r.auditCleanMs),
      String(r.outcomes.confirmed),
      String(r.outcomes.declined),
      String(r.buyers - r.outcomes.confirmed - r.outcomes.declined),
      String(r.retries),
      `${r.provider.providerCharges}/${r.provider.databaseCharges}`,
      r.ok ? 'ok' : `FAILED ${JSON.stringify(Object.fromEntries(Object.entries(r.audit.violations).filter(([, n]) => n)))}`,
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n');
}

export function describe(r: ScenarioReport): string {
  return [
    `== ${r.name}: ${r.fault}`,
    `   in flight when it hit: ${JSON.stringify(r.inFlight)}`,
    `   outcomes (${r.buyers} buyers): ${JSON.stringify(r.outcomes)}; ${r.retries} client retries; ${r.ordersVisible} orders visible to their buyers`,
    `   fault lasted ${r.faultMs} ms; every buyer answered ${r.recoveryMs} ms after it ended; audit clean after ${r.auditCleanMs} ms`,
    `   provider: ${r.provider.providerCharges} charges accepted, ${r.provider.databaseCharges} in the database, ${r.provider.sameKeyRetries} same-key retries`,
    `   audit: ${r.audit.ok ? 'ok' : 'VIOLATIONS'} ${JSON.stringify(r.audit.violations)} totals ${JSON.stringify(r.audit.totals)}`,
    ...r.notes.map((n) => `   note: ${n}`),
  ].join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const short = args.includes('--short');
  const names = args.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length || args.includes('--help')) {
    process.stderr.write(
      `usage: ./onsale faults [--short] [scenario...]\n${SCENARIOS.map((s) => `  ${s.name.padEnd(20)} ${s.description}${s.sharedServices ? ' (stops a shared service)' : ''}`).join('\n')}\n`,
    );
    process.exit(unknown.length ? 2 : 0);
  }
  const chosen = names.length ? SCENARIOS.filter((s) => names.includes(s.name)) : SCENARIOS;
  const reports: ScenarioReport[] = [];
  for (const s of chosen) {
    const log = (line: string) => process.stdout.write(`[faults] ${line}\n`);
    log(`${s.name}: ${s.description}${short ? ' (short)' : ''}`);
    try {
      const r = await s.run({ short, log });
      reports.push(r);
      process.stdout.write(describe(r) + '\n\n');
    } catch (err) {
      log(`${s.name}: the scenario itself failed: ${(err as Error).stack ?? String(err)}`);
      process.exitCode = 1;
    }
  }
  process.stdout.write(table(reports) + '\n');
  if (reports.some((r) => !r.ok)) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
