/**
 * The published contract, checked from outside: Schemathesis (a property-based
 * API fuzzer, pinned in scripts/lib/common.sh and installed by
 * scripts/install.sh) generates requests from GET /openapi.json and checks
 * every answer against it — status codes, headers, bodies, 405s with Allow,
 * schema-valid input accepted and invalid input refused — once as a buyer and
 * once as the administrator, with its stateful phase following the OpenAPI
 * links from the answers that create ids to the operations that use them.
 * A negative-only run against the fixture event shows that rejected requests
 * change nothing (the event's state fingerprint before and after).
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stateFingerprint } from '../../db/audit';
import { testConfig } from '../../harness/stack';
import { createEvent, newBuyer } from '../support/http';
import { useApiAndWorker } from '../support/stack';

jest.setTimeout(600_000);

const ROOT = path.resolve(__dirname, '../..');
const ST = execFileSync('bash', ['-c', 'source scripts/lib/common.sh && printf %s "$SCHEMATHESIS_BIN"'], { cwd: ROOT }).toString();
/** Generated cases per operation and phase: enough to find drift, bounded so CI stays well inside its limit. */
const MAX_EXAMPLES = Number(process.env.ONSALE_CONTRACT_EXAMPLES ?? 12);
/** Seconds each run may take, its stateful phase included. */
const MAX_SECONDS = Number(process.env.ONSALE_CONTRACT_SECONDS ?? 90);

const config = testConfig();
const stack = useApiAndWorker(config);

interface RunResult {
  code: number;
  output: string;
  cases: number;
  failures: number;
  operationsTested: number;
}

/** Runs `st run` against the live API; resolves with what its summary says. */
function schemathesis(args: string[], env: Record<string, string>): Promise<RunResult> {
  const reports = mkdtempSync(path.join(tmpdir(), 'onsale-contract-'));
  return new Promise((resolve) => {
    execFile(
      ST,
      [
        '--config-file',
        path.join(__dirname, 'schemathesis.toml'),
        'run',
        `${stack.api.url}/openapi.json`,
        '--workers',
        '1',
        '--max-examples',
        String(MAX_EXAMPLES),
        '--max-time',
        String(MAX_SECONDS),
        '--seed',
        '20261129',
        '--report',
        'junit,ndjson',
        '--report-dir',
        reports,
        ...args,
      ],
      { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 540_000 },
      (err, stdout, stderr) => {
        const output = `${stdout}\n${stderr}`;
        const cases = Number(/(\d+) generated/.exec(output)?.[1] ?? 0);
        const failures = Number(/(\d+) unique failures?/.exec(output)?.[1] ?? 0);
        const operationsTested = Number(/Tested: (\d+)/.exec(output)?.[1] ?? 0);
        process.stdout.write(`reports: ${reports}\n`);
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output, cases, failures, operationsTested });
      },
    );
  });
}

function report(name: string, r: RunResult): void {
  process.stdout.write(`${name}: ${r.cases} cases, ${r.operationsTested} operations tested, exit ${r.code}\n`);
  if (r.code !== 0) process.stdout.write(r.output.slice(-20_000));
}

let eventId: string;
let buyerToken: string;

beforeAll(async () => {
  expect(existsSync(ST)).toBe(true);
  eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN, {
    name: 'Contract fixture',
    sections: [{ id: 'A', name: 'Floor A', rows: 4, seatsPerRow: 10, priceCents: 5000 }],
  });
  buyerToken = (await newBuyer(stack.api.url, 'Contract Buyer')).token;
});

test('rejected requests change nothing: a negative-only run leaves the event as it was', async () => {
  const before = await stateFingerprint(stack.api.deps.pool, eventId);
  const r = await schemathesis(
    [
      '--mode',
      'negative',
      // The examples phase sends the schema's own (valid) examples whatever the mode, so it is left out here.
      '--phases',
      'coverage,fuzzing',
      '-H',
      `Authorization: Bearer ${buyerToken}`,
      '--exclude-path-regex',
      '^/v1/admin',
    ],
    { ONSALE_CONTRACT_EVENT_ID: eventId },
  );
  report('negative, buyer', r);
  expect(r.cases).toBeGreaterThan(0);
  const after = await stateFingerprint(stack.api.deps.pool, eventId);
  if (after !== before) {
    const { rows } = await stack.api.deps.pool.query(
      `SELECT 'hold' AS kind, id, status, created_at::text AS at FROM holds WHERE event_id = $1
       UNION ALL SELECT 'payment', id, status, created_at::text FROM payments WHERE event_id = $1
       UNION ALL SELECT 'event', id, state, now()::text FROM events WHERE id = $1`,
      [eventId],
    );
    process.stdout.write(`changed by the negative run: ${JSON.stringify(rows)}\n`);
  }
  expect(after).toBe(before);
});

test('as a buyer: every answer matches the published contract', async () => {
  const r = await schemathesis(['-H', `Authorization: Bearer ${buyerToken}`, '--exclude-path-regex', '^/v1/admin'], {
    ONSALE_CONTRACT_EVENT_ID: eventId,
  });
  report('all phases, buyer', r);
  expect(r.cases).toBeGreaterThan(0);
  expect({ exit: r.code, failures: r.failures }).toEqual({ exit: 0, failures: 0 });
});

test('as the administrator: every answer matches the published contract', async () => {
  const r = await schemathesis(['-H', `Authorization: Bearer ${config.ADMIN_TOKEN}`, '--include-path-regex', '^/v1/admin'], {
    ONSALE_CONTRACT_EVENT_ID: eventId,
  });
  report('all phases, admin', r);
  expect(r.cases).toBeGreaterThan(0);
  expect({ exit: r.code, failures: r.failures }).toEqual({ exit: 0, failures: 0 });
});
