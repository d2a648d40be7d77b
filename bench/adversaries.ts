/**
 * Bots and fairness, measured: each adversary against the real stack (API
 * process, worker, Postgres, Redis, Temporal) with the defences off and on, in
 * the same run, alternating, each on a fresh event of the same shape.
 *
 *   account farm  20 accounts per human, 4 accounts per address, 1 card per 10
 *                 accounts; solves proof of work on one core (one worker
 *                 thread, so solving never stalls its requests); its own process.
 *   proxy farm    one residential address and one card per bot; solves proof of
 *                 work on worker threads, one per core of this machine; its own
 *                 process.
 *   humans        one account, address and card each; think times, a poll every
 *                 one to two seconds; their own connection pool in this process.
 *
 * The identity provider's signals are part of the model and are stated in the
 * report: every human is a verified person with a low risk score; farm
 * accounts carry no verified identity, and the provider scores them as the
 * `riskModel` below says. A third arm, "on, no IdP signal", gives the bots a
 * risk of 0, to show what the other defences do alone; a fourth, "on, verified
 * only", is an event that admits verified people only (requireVerifiedIdentity),
 * which a farm of unverified accounts cannot enter.
 *
 *   set -a; source .state/stack.env; set +a
 * Late humans (--late-humans N) are more fans, alike in every way, who come
 * after the opening, spread over the first --late-spread seconds of the sale
 * (default: half of it): enough buyers after the opening to measure Kendall
 * tau there on a few hundred places rather than the handful of opening-crowd
 * fans who happen to arrive a second late. The farms are sized on the
 * opening crowd (--humans); every share of accounts counts every account,
 * late humans included.
 *
 *   set -a; source .state/stack.env; set +a
 *   npx tsx bench/adversaries.ts [--humans 20] [--late-humans 0] [--late-spread 20] [--seats 96] [--seconds 40] [--out bench/results]
 */
import { fork } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { createPool } from '../db/pool';
import { createRedis } from '../platform/redis';
import { queueKeys } from '../services/waiting-room';
import { type ActorResult, type ActorSpec, type Kind, runActor, threadSolver } from './lib/actors';
import { kendallTauDistance } from './lib/fairness';
import { clientAddress, HttpClient } from './lib/http';
import { inParallel } from './lib/load';
import { benchConfig, startApiProcess } from './lib/services';
import { rng, round } from './lib/stats';
import { startWorker } from '../harness/stack';
import type { AdversaryJob, AdversaryReport } from './adversary-process';
import { barChart } from './report/svg';
import { renderPng } from './report/png';

type Adversary = 'account_farm' | 'proxy_farm';
type Arm = 'off' | 'on' | 'on, no IdP signal' | 'on, verified only';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const outDir = (() => {
  const i = process.argv.indexOf('--out');
  return i > 0 ? process.argv[i + 1]! : path.join(__dirname, 'results');
})();

const HUMANS = arg('humans', 20);
const LATE_HUMANS = arg('late-humans', 0);
const ALL_HUMANS = HUMANS + LATE_HUMANS;
const SEATS_PER_ROW = 8;
const SEAT_ROWS = Math.max(1, Math.round(arg('seats', 96) / SEATS_PER_ROW));
const MAX_SEATS = 6;
const SALE_SECONDS = arg('seconds', 40);
const PREQUEUE_MS = 4000;
/** Late humans come after the opening: from one second after it, uniformly over this many seconds. */
const LATE_SPREAD_SECONDS = arg('late-spread', SALE_SECONDS / 2);

const ADVERSARIES: Record<Adversary, { perHuman: number; perAddress: number; accountsPerCard: number; threads: number }> = {
  // One core of proof of work, on a thread of its own: solving inline would stall the farm's own polls and holds.
  account_farm: { perHuman: 20, perAddress: 4, accountsPerCard: 10, threads: 1 },
  proxy_farm: { perHuman: 5, perAddress: 1, accountsPerCard: 1, threads: cpus().length },
};

/** The identity provider's score of each kind of account (uniform in the range): the model, stated in the report. */
const riskModel: Record<Kind, [number, number]> = {
  human: [0, 0.3],
  account_farm: [0.4, 1],
  proxy_farm: [0.2, 0.8],
};

const DEFENCES_OFF = {
  powDifficulty: 0,
  powDemandDifficulty: 0,
  cardLimit: false,
  maxPlacesPerIdentity: 1000,
  riskExtraPowAbove: 1,
  riskRefuseAbove: 1,
  verifiedFirst: false,
  unverifiedSeatLimit: MAX_SEATS,
};
/** The defaults (domain/fairness.ts), named so the report can state them. */
const DEFENCES_ON = {
  powDifficulty: 0,
  powDemandQueue: 100,
  powDemandDifficulty: 12,
  powMaxDifficulty: 22,
  cardLimit: true,
  maxPlacesPerIdentity: 1,
  riskExtraPowAbove: 0.5,
  riskRefuseAbove: 0.9,
  verifiedFirst: true,
  unverifiedSeatLimit: 2,
};

interface ArmResult {
  adversary: Adversary;
  arm: Arm;
  defences: Record<string, unknown>;
  resources: {
    humans: number;
    lateHumans?: number;
    bots: number;
    botAddresses: number;
    humanAddresses: number;
    botCards: number;
    botCores: number;
  };
  seats: number;
  sold: number;
  botTickets: number;
  botTicketShare: number | null;
  botAccountShare: number;
  botAddressShare: number;
  ratioToAccounts: number | null;
  ratioToAddresses: number | null;
  botPlaces: number;
  botCpuSeconds: number;
  cpuSecondsPerExtraPlace: number | null;
  humansWhoWanted: number;
  humansServed: number;
  humanShareServed: number | null;
  tauAfterOpening: number | null;
  tauAll: number | null;
  /** How many buyers each tau compares. */
  placedAfterOpening: number;
  placedAll: number;
  refused: Record<string, number>;
  outcomes: Record<string, Record<string, number>>;
  powBits: { human: number | null; bot: number | null };
  seconds: number;
  load: string;
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main() {
  // The identity provider of this model verifies people: every human carries a verified_id, no farm account does.
  const config = { ...benchConfig(), BUYER_TOKEN_VERIFIES_PEOPLE: true };
  const api = await startApiProcess(config);
  const worker = await startWorker(config);
  const pool = createPool(config.DATABASE_URL);
  const redis = createRedis(config.REDIS_URL, 'bench-adversaries');
  const admin = new HttpClient(api.url, 8);
  const results: ArmResult[] = [];
  const random = rng(16);
  const runId = Date.now().toString(36);
  const list = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1]!.split(',') : null;
  };
  const adversaries = (list('adversaries') ?? ['account_farm', 'proxy_farm']) as Adversary[];
  const arms = (list('arms') ?? ['off', 'on', 'on-no-idp', 'on-verified']).map((x) =>
    x === 'on-no-idp' ? 'on, no IdP signal' : x === 'on-verified' ? 'on, verified only' : x,
  ) as Arm[];
  try {
    // Alternating arms, adversary by adversary, on events of the same shape.
    for (const adversary of adversaries) {
      for (const arm of arms) {
        console.error(`${adversary}, defences ${arm} (load ${load()})`);
        results.push(await runArm(adversary, arm));
        // Each arm is kept as it ends: a run cut short can still be reported (--from).
        mkdirSync(outDir, { recursive: true });
        writeFileSync(path.join(outDir, 'fairness.json'), JSON.stringify({ results, notes: notes() }, null, 2));
      }
    }
  } finally {
    admin.close();
    await redis.quit().catch(() => undefined);
    await pool.end();
    await worker.stop();
    await api.stop();
  }

  async function runArm(adversary: Adversary, arm: Arm): Promise<ArmResult> {
    const a = ADVERSARIES[adversary];
    const defences =
      arm === 'off' ? DEFENCES_OFF : arm === 'on, verified only' ? { ...DEFENCES_ON, requireVerifiedIdentity: true } : DEFENCES_ON;
    const bots = HUMANS * a.perHuman;
    const score = (k: Kind) => {
      const [lo, hi] = riskModel[k];
      return round(lo + random() * (hi - lo), 2);
    };
    const accounts = await inParallel(
      Array.from({ length: ALL_HUMANS + bots }, (_, i) => i),
      16,
      async (i) => {
        const human = i < ALL_HUMANS;
        const kind: Kind = human ? 'human' : adversary;
        const claims = human
          ? { verifiedIdentity: `idv_person_${runId}_${adversary}_${arm.length}_${i}`, risk: score('human') }
          : arm === 'on, no IdP signal'
            ? { risk: 0 }
            : { risk: score(kind) };
        const r = await admin.json('POST', '/v1/dev/buyers', { body: { name: human ? `Fan ${i}` : `Bot ${i}`, ...claims } });
        if (r.status !== 201) throw new Error(`buyer: ${r.status}`);
        return { kind, ...(r.body as { buyerId: string; token: string }) };
      },
    );
    // The event is made once every account exists, so the sale starts on time whatever the machine's load.
    const onSaleAt = Date.now() + 3000 + PREQUEUE_MS;
    const created = await admin.json('POST', '/v1/admin/events', {
      token: config.ADMIN_TOKEN,
      body: {
        name: `Fairness: ${adversary}, defences ${arm}`,
        onSaleAt: new Date(onSaleAt).toISOString(),
        holdSeconds: 60,
        maxSeatsPerBuyer: MAX_SEATS,
        // Admission at half the seats at a time, and a short turn: an admitted account that takes nothing passes its turn on soon.
        waitingRoom: {
          enabled: true,
          maxActiveCheckouts: Math.max(4, (SEAT_ROWS * SEATS_PER_ROW) / 2),
          admitPerMinute: 1200,
          admissionWindowSeconds: 10,
          ...defences,
        },
        sections: [{ id: 'A', name: 'Floor', rows: SEAT_ROWS, seatsPerRow: SEATS_PER_ROW, priceCents: 9000 }],
      },
    });
    if (created.status !== 201) throw new Error(`event: ${created.status} ${JSON.stringify(created.body)}`);
    const eventId: string = created.body.eventId;
    await admin.json('POST', `/v1/admin/events/${eventId}/open`, { token: config.ADMIN_TOKEN });

    const actors: ActorSpec[] = accounts.map((acc, i) => {
      const b = i - ALL_HUMANS;
      if (acc.kind === 'human') {
        // Fans who know the on-sale time: from a few seconds before the opening to a few after it;
        // late ones over the sale's first LATE_SPREAD_SECONDS.
        const arriveAtMs =
          i < HUMANS
            ? onSaleAt - PREQUEUE_MS + Math.round(random() * 2 * PREQUEUE_MS)
            : onSaleAt + 1000 + Math.round(random() * LATE_SPREAD_SECONDS * 1000);
        return { ...acc, ip: clientAddress(i), card: 'pm_card_visa', arriveAtMs, quantity: 1 + Math.floor(random() * 4) };
      }
      return {
        ...acc,
        ip: clientAddress(10_000 + Math.floor(b / a.perAddress)),
        card: `pm_card_visa__${adversary}_${Math.floor(b / a.accountsPerCard)}`,
        // Bots are in position before the opening and fire over its first second.
        arriveAtMs: onSaleAt - PREQUEUE_MS + Math.round(random() * 1000),
        quantity: MAX_SEATS,
      };
    });
    const deadlineMs = onSaleAt + SALE_SECONDS * 1000;
    const humans = actors.filter((x) => x.kind === 'human');
    const botActors = actors.filter((x) => x.kind !== 'human');

    // The sale's end, as anyone can read it: nothing available, nothing held.
    let soldOutAt: number | null = null;
    const watcher = setInterval(() => {
      void admin
        .json('GET', `/v1/events/${eventId}`)
        .then((e) => {
          if (soldOutAt === null && e.status === 200 && e.body.counts.available === 0 && e.body.counts.held === 0) soldOutAt = Date.now();
        })
        .catch(() => undefined);
    }, 500);

    const child = fork(path.join(__dirname, 'adversary-process.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const botReport = new Promise<AdversaryReport>((resolve, reject) => {
      child.once('message', (m) => resolve(m as AdversaryReport));
      child.once('exit', (code) => code !== 0 && reject(new Error(`adversary process exited ${code}`)));
    });
    const job: AdversaryJob = { base: api.url, eventId, actors: botActors, powThreads: a.threads, sockets: 64, deadlineMs, seed: 7 };
    child.send(job);
    const humansHttp = new HttpClient(api.url, 64);
    // Each person solves on their own phone: here on threads, so hashing never stalls this process's event loop,
    // which also runs the Temporal worker (solving inline starved the admission workflow once lines grew long).
    const humanSolver = threadSolver(cpus().length, deadlineMs);
    const started = Date.now();
    const humanResults = await Promise.all(
      humans.map((h) =>
        runActor(h, { http: humansHttp, eventId, solver: humanSolver, deadlineMs, soldOut: () => soldOutAt !== null, random }),
      ),
    );
    const { results: botResults, cpuSeconds } = await botReport;
    clearInterval(watcher);
    humansHttp.close();
    await humanSolver.close();
    const seconds = round((Date.now() - started) / 1000, 1);
    await admin.json('POST', `/v1/admin/events/${eventId}/close`, { token: config.ADMIN_TOKEN });

    // Tickets from the source of truth.
    const { rows } = await pool.query<{ buyer_id: string; n: number }>(
      `SELECT buyer_id, sum(cardinality(seat_ids))::int AS n FROM orders WHERE event_id = $1 AND status = 'confirmed' GROUP BY buyer_id`,
      [eventId],
    );
    const botIds = new Set(botActors.map((x) => x.buyerId));
    const sold = rows.reduce((s, r) => s + r.n, 0);
    const botTickets = rows.filter((r) => botIds.has(r.buyer_id)).reduce((s, r) => s + r.n, 0);

    // Places after the seal, read back from the waiting room: the shuffle's outcome, not the provisional pre-queue index.
    const all: ActorResult[] = [...humanResults, ...botResults];
    const places = await redis.hgetall(queueKeys(eventId).places);
    const placed = all
      .filter((r) => r.joined && r.sentJoinAtMs !== undefined && places[r.buyerId] && !places[r.buyerId]!.startsWith('p'))
      .map((r) => [r.sentJoinAtMs!, Number(places[r.buyerId])] as [number, number]);
    const afterOpening = placed.filter(([at]) => at >= onSaleAt);

    const botAddresses = new Set(botActors.map((x) => x.ip)).size;
    const humanAddresses = new Set(humans.map((x) => x.ip)).size;
    const botAccountShare = bots / (bots + ALL_HUMANS);
    const botAddressShare = botAddresses / (botAddresses + humanAddresses);
    const botTicketShare = sold ? botTickets / sold : null;
    const botPlaces = botResults.filter((r) => r.joined).length;
    // Humans who wanted tickets while seats lasted: those who asked before the sale ran out.
    const wanted = humanResults.filter((r) => r.sentJoinAtMs !== undefined && (soldOutAt === null || r.sentJoinAtMs < soldOutAt));
    const served = wanted.filter((r) => r.outcome === 'bought');
    const count = (xs: ActorResult[], key: (r: ActorResult) => string | undefined) =>
      xs.reduce<Record<string, number>>((m, r) => {
        const k = key(r);
        if (k) m[k] = (m[k] ?? 0) + 1;
        return m;
      }, {});
    const meanBits = (xs: ActorResult[]) => {
      const bits = xs.flatMap((r) => r.powBits);
      return bits.length ? round(bits.reduce((s, b) => s + b, 0) / bits.length, 1) : null;
    };
    return {
      adversary,
      arm,
      defences,
      resources: {
        humans: ALL_HUMANS,
        lateHumans: LATE_HUMANS,
        bots,
        botAddresses,
        humanAddresses,
        botCards: Math.ceil(bots / a.accountsPerCard),
        botCores: Math.max(1, a.threads),
      },
      seats: SEAT_ROWS * SEATS_PER_ROW,
      sold,
      botTickets,
      botTicketShare: botTicketShare === null ? null : round(botTicketShare, 3),
      botAccountShare: round(botAccountShare, 3),
      botAddressShare: round(botAddressShare, 3),
      ratioToAccounts: botTicketShare === null ? null : round(botTicketShare / botAccountShare, 3),
      ratioToAddresses: botTicketShare === null ? null : round(botTicketShare / botAddressShare, 3),
      botPlaces,
      botCpuSeconds: round(cpuSeconds, 2),
      cpuSecondsPerExtraPlace: botPlaces > 1 ? round(cpuSeconds / (botPlaces - 1), 4) : null,
      humansWhoWanted: wanted.length,
      humansServed: served.length,
      humanShareServed: wanted.length ? round(served.length / wanted.length, 3) : null,
      tauAfterOpening: afterOpening.length > 1 ? round(kendallTauDistance(afterOpening).distance, 4) : null,
      tauAll: placed.length > 1 ? round(kendallTauDistance(placed).distance, 4) : null,
      placedAfterOpening: afterOpening.length,
      placedAll: placed.length,
      refused: count(all, (r) => (r.refused ? `${r.kind}: ${r.refused}` : undefined)),
      outcomes: { human: count(humanResults, (r) => r.outcome), bot: count(botResults, (r) => r.outcome) },
      powBits: { human: meanBits(humanResults), bot: meanBits(botResults) },
      seconds,
      load: load(),
    };
  }

  await writeReport(results, notes());
}

/** What the report states besides the table: the population, the event, the model and the defences. */
function notes(): string[] {
  return [
    `humans: ${HUMANS} around the opening (from ${PREQUEUE_MS / 1000} s before to ${PREQUEUE_MS / 1000} s after)${LATE_HUMANS ? ` and ${LATE_HUMANS} after it (over ${LATE_SPREAD_SECONDS} s from 1 s after the opening)` : ''}, one account, address and card each, 1–4 seats wanted, verified identity, risk ${riskModel.human.join('–')}; farms sized on the ${HUMANS} at the opening`,
    `event: ${SEAT_ROWS * SEATS_PER_ROW} seats, at most ${MAX_SEATS} per buyer, a ${SALE_SECONDS} s sale`,
    'tau: arrival is the moment a buyer first asked to join (before any proof of work); the place is read back from the waiting room after the seal; "after opening" counts buyers who first asked after the sale opened',
    `identity provider's risk model: account farm ${riskModel.account_farm.join('–')}, proxy farm ${riskModel.proxy_farm.join('–')} (uniform); "on, no IdP signal" gives bots risk 0; farm accounts carry no verified identity, and the provider is one that verifies people (BUYER_TOKEN_VERIFIES_PEOPLE=true)`,
    `defences off: ${JSON.stringify(DEFENCES_OFF)}`,
    `defences on: ${JSON.stringify(DEFENCES_ON)}; "on, verified only" adds requireVerifiedIdentity`,
    `machine: ${cpus().length} cores; load average at the end ${load()}`,
  ];
}

/** A table on stdout and in fairness-table.md, the JSON, and a chart (HTML and PNG) like the other bench outputs. */
async function writeReport(results: ArmResult[], notes: string[]) {
  const f = (v: number | null, d = 3) => (v === null ? '–' : String(round(v, d)));
  const header =
    '| adversary | defences | bots (addr, cards, cores) | sold/seats | bots’ ticket share | ÷ account share | ÷ address share | CPU-s per extra place | humans served while seats lasted | tau after opening (buyers) | tau all (buyers) | load |';
  const lines = [
    header,
    `|${header
      .split('|')
      .slice(1, -1)
      .map(() => ' --- ')
      .join('|')}|`,
  ];
  for (const r of results) {
    lines.push(
      `| ${r.adversary.replace('_', ' ')} | ${r.arm} | ${r.resources.bots} (${r.resources.botAddresses}, ${r.resources.botCards}, ${r.resources.botCores}) | ${r.sold}/${r.seats} | ${f(r.botTicketShare)} | ${f(r.ratioToAccounts)} | ${f(r.ratioToAddresses)} | ${f(r.cpuSecondsPerExtraPlace, 4)} | ${r.humansServed}/${r.humansWhoWanted} (${f(r.humanShareServed, 2)}) | ${f(r.tauAfterOpening, 4)} (${r.placedAfterOpening}) | ${f(r.tauAll, 4)} (${r.placedAll}) | ${r.load} |`,
    );
  }
  const table = lines.join('\n');

  console.log(`${table}\n\n${notes.map((n) => `- ${n}`).join('\n')}`);
  for (const r of results)
    console.log(
      `${r.adversary} ${r.arm}: refused ${JSON.stringify(r.refused)} outcomes ${JSON.stringify(r.outcomes)} pow bits ${JSON.stringify(r.powBits)} ${r.seconds}s`,
    );

  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'fairness.json'), JSON.stringify({ results, notes }, null, 2));
  writeFileSync(path.join(outDir, 'fairness-table.md'), `${table}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`);
  const chart = barChart(
    "Bots' share of tickets ÷ their share of accounts (target ≤ 0.3 for the account farm, defences on)",
    results.map((r) => ({
      label: `${r.adversary === 'account_farm' ? 'acct' : 'proxy'} ${r.arm === 'on, no IdP signal' ? 'on−IdP' : r.arm === 'on, verified only' ? 'on+idv' : r.arm}`,
      values: {
        '÷accounts': r.ratioToAccounts ?? 0,
        '÷addresses': r.ratioToAddresses ?? 0,
        humans: r.humanShareServed ?? 0,
      },
    })),
    { yLabel: 'ratio', width: 760, height: 300 },
  );
  const html = `<!doctype html><meta charset="utf-8"><title>onsale fairness</title><body style="font-family:sans-serif"><div id="fairness">${chart}<pre style="font-size:11px;white-space:pre-wrap;width:760px">${notes.join('\n')}</pre></div></body>`;
  writeFileSync(path.join(outDir, 'fairness.html'), html);
  const png = await renderPng(html, '#fairness', path.join(outDir, 'fairness.png')).catch((e: unknown) => String(e));
  if (png) console.error(`no PNG: ${png}`);
}

const from = process.argv.indexOf('--from');
const run =
  from > 0
    ? async () => {
        // Redraws the report of an earlier run from its JSON.
        const saved = JSON.parse(readFileSync(process.argv[from + 1]!, 'utf8')) as { results: ArmResult[]; notes: string[] };
        await writeReport(saved.results, saved.notes);
      }
    : main;

run().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
