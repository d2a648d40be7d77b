/**
 * The published contract, checked from outside: Schemathesis (a property-based
 * API fuzzer, pinned in scripts/lib/common.sh and installed by
 * scripts/install.sh) generates requests from GET /openapi.json and checks
 * every answer against it — status codes, headers, bodies, 405s with Allow,
 * schema-valid input accepted and invalid input refused. Each operation is
 * called with the credential its security scheme names (schemathesis.toml:
 * the buyer's token, the administrator's, or none), so one run covers both
 * roles:
 *   - a negative-only run against the fixture event shows that rejected
 *     requests change nothing (the event's state fingerprint before and after);
 *   - every operation, one by one (examples, coverage and fuzzing phases), on
 *     the fixture events (pinned.toml);
 *   - the journey (journey.toml): the stateful phase alone, unpinned, following the explicit
 *     OpenAPI links (api/links.ts) from the answers that create ids to the
 *     operations that use them, across roles (the administrator creates and
 *     opens an event, a buyer joins, holds and pays, support refunds). Which
 *     links it walked is read from Schemathesis's NDJSON report, and asserted.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
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
/** Journeys (stateful scenarios of up to six linked calls) the journey run starts, within its time. */
const JOURNEYS = Number(process.env.ONSALE_CONTRACT_JOURNEYS ?? 150);

const config = testConfig();
const stack = useApiAndWorker(config);

interface RunResult {
  code: number;
  output: string;
  cases: number;
  failures: number;
  operationsTested: number;
  reports: string;
}

/** Runs `st run` against the live API; resolves with what its summary says. */
function schemathesis(
  args: string[],
  opts: { extra: 'pinned.toml' | 'journey.toml'; env: Record<string, string>; seconds?: number },
): Promise<RunResult> {
  const reports = mkdtempSync(path.join(tmpdir(), 'onsale-contract-'));
  // The common settings, and those of this kind of run.
  const configFile = path.join(reports, 'schemathesis.toml');
  writeFileSync(configFile, ['schemathesis.toml', opts.extra].map((f) => readFileSync(path.join(__dirname, f), 'utf8')).join('\n'));
  return new Promise((resolve) => {
    execFile(
      ST,
      [
        '--config-file',
        configFile,
        'run',
        `${stack.api.url}/openapi.json`,
        '--workers',
        '1',
        '--max-examples',
        String(MAX_EXAMPLES),
        '--max-time',
        String(opts.seconds ?? MAX_SECONDS),
        '--seed',
        '20261129',
        '--report',
        'junit,ndjson',
        '--report-dir',
        reports,
        ...args,
      ],
      {
        env: {
          ...process.env,
          ONSALE_CONTRACT_BUYER_TOKEN: buyerToken,
          ONSALE_CONTRACT_ADMIN_TOKEN: config.ADMIN_TOKEN,
          ...opts.env,
        },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 540_000,
      },
      (err, stdout, stderr) => {
        const output = `${stdout}\n${stderr}`;
        const cases = Number(/(\d+) generated/.exec(output)?.[1] ?? 0);
        const failures = Number(/(\d+) unique failures?/.exec(output)?.[1] ?? 0);
        const operationsTested = Number(/Tested: (\d+)/.exec(output)?.[1] ?? 0);
        process.stdout.write(`reports: ${reports}\n`);
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output, cases, failures, operationsTested, reports });
      },
    );
  });
}

function report(name: string, r: RunResult): void {
  process.stdout.write(`${name}: ${r.cases} cases, ${r.operationsTested} operations tested, exit ${r.code}\n`);
  if (r.code !== 0) process.stdout.write(r.output.slice(-20_000));
}

/** One explicit link the journey followed: how often its ids were used, and the statuses the target answered. */
interface Walked {
  applied: number;
  statuses: Record<number, number>;
}

interface NdjsonCase {
  transition?: { id: string; is_inferred?: boolean };
  is_transition_applied?: boolean;
}

/**
 * The explicit links (not ones Schemathesis inferred) whose extracted ids the
 * stateful phase actually used, from the NDJSON report: each recorded case
 * carries the transition it came from, its interaction the answer's status.
 */
async function linksWalked(reports: string): Promise<Map<string, Walked>> {
  const walked = new Map<string, Walked>();
  for (const file of readdirSync(reports).filter((f) => f.endsWith('.ndjson'))) {
    const lines = createInterface({ input: createReadStream(path.join(reports, file)), crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line.startsWith('{"ScenarioFinished"')) continue;
      const recorder = (
        JSON.parse(line) as {
          ScenarioFinished: {
            recorder?: {
              cases?: Record<string, NdjsonCase>;
              interactions?: Record<string, { response?: { status_code?: number } }>;
            };
          };
        }
      ).ScenarioFinished.recorder;
      for (const [caseId, node] of Object.entries(recorder?.cases ?? {})) {
        if (!node.transition || node.transition.is_inferred || !node.is_transition_applied) continue;
        const w = walked.get(node.transition.id) ?? { applied: 0, statuses: {} };
        w.applied++;
        const status = recorder?.interactions?.[caseId]?.response?.status_code;
        if (status) w.statuses[status] = (w.statuses[status] ?? 0) + 1;
        walked.set(node.transition.id, w);
      }
    }
  }
  return walked;
}

let eventId: string;
/** The event the sale's controls (open, pause, resume, close) are fuzzed on, so the fixture stays on sale. */
let controlsEventId: string;
let buyerToken: string;

beforeAll(async () => {
  expect(existsSync(ST)).toBe(true);
  eventId = await createEvent(stack.api.url, config.ADMIN_TOKEN, {
    name: 'Contract fixture',
    sections: [{ id: 'A', name: 'Floor A', rows: 4, seatsPerRow: 10, priceCents: 5000 }],
  });
  controlsEventId = await createEvent(stack.api.url, config.ADMIN_TOKEN, {
    name: 'Contract fixture, sale controls',
    sections: [{ id: 'A', name: 'Floor A', rows: 1, seatsPerRow: 10, priceCents: 5000 }],
  });
  buyerToken = (await newBuyer(stack.api.url, 'Contract Buyer')).token;
});

const pins = () => ({ ONSALE_CONTRACT_EVENT_ID: eventId, ONSALE_CONTRACT_CONTROLS_EVENT_ID: controlsEventId });

test('rejected requests change nothing: a negative-only run leaves the event as it was', async () => {
  const before = await stateFingerprint(stack.api.deps.pool, eventId);
  const r = await schemathesis(
    [
      '--mode',
      'negative',
      // The examples phase sends the schema's own (valid) examples whatever the mode, so it is left out here.
      '--phases',
      'coverage,fuzzing',
      // The buyer's and the public operations, whose refusals must leave the fixture's sale as it was.
      '--exclude-path-regex',
      '^/v1/admin',
    ],
    { extra: 'pinned.toml', env: pins() },
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

test('every operation, as the role its description names: every answer matches the published contract', async () => {
  const r = await schemathesis(['--phases', 'examples,coverage,fuzzing'], { extra: 'pinned.toml', env: pins(), seconds: MAX_SECONDS * 2 });
  report('operations, buyer and administrator', r);
  expect(r.cases).toBeGreaterThan(0);
  expect({ exit: r.code, failures: r.failures }).toEqual({ exit: 0, failures: 0 });
});

test('the journey: the stateful phase follows the OpenAPI links across roles, and every answer matches', async () => {
  // Valid requests only: the journey is for walking; invalid input is the other runs' business.
  const r = await schemathesis(['--phases', 'stateful', '--mode', 'positive', '--max-examples', String(JOURNEYS)], {
    extra: 'journey.toml',
    env: {},
    seconds: MAX_SECONDS + 30,
  });
  report('journey, stateful', r);
  const walked = await linksWalked(r.reports);
  const lines = [...walked].sort(([a], [b]) => a.localeCompare(b)).map(([id, w]) => `  ${w.applied}× ${id} ${JSON.stringify(w.statuses)}`);
  process.stdout.write(`explicit links walked: ${walked.size}\n${lines.join('\n')}\n`);
  expect({ exit: r.code, failures: r.failures }).toEqual({ exit: 0, failures: 0 });
  // The explicit links are followed, with ids the API answered to: from the event the journey created onwards.
  expect(walked.size).toBeGreaterThanOrEqual(8);
  const fromCreated = [...walked].filter(
    ([id, w]) => id.startsWith('POST /v1/admin/events -> ') && Object.keys(w.statuses).some((s) => Number(s) < 300),
  );
  expect(fromCreated.length).toBeGreaterThan(0);
});
