/**
 * The overload curve: open-loop load at rising request rates against a real
 * API process (seat-map reads of a 500-seat event, CPU-bound in the API),
 * once with load shedding and once without. Prints per step the goodput,
 * the fast 503s, the client timeouts and the latency of the answered
 * requests, then the curve as a small chart.
 *
 *   set -a; source .state/stack.env; set +a
 *   npx tsx bench/overload.ts [--steps 200,400,800,1600,3200] [--seconds 4]
 *
 * Without shedding, past capacity requests queue until clients time out and
 * goodput collapses; with it, the excess gets a fast 503 + Retry-After and
 * the admitted requests keep their latency. After the last step one request
 * shows the process recovered by itself.
 */
import { AppProcess, freePort, sleep } from '../harness/processes';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const STEPS = arg('steps', '25,50,100,200,400').split(',').map(Number);
const SECONDS = Number(arg('seconds', '4'));
const CLIENT_TIMEOUT_MS = 2000;

interface Step {
  rate: number;
  ok: number;
  shed: number;
  timeouts: number;
  other: number;
  p50: number;
  p99: number;
}

const pct = (xs: number[], p: number) => (xs.length ? xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]! : NaN);

async function step(url: string, rate: number): Promise<Step> {
  const lat: number[] = [];
  const s: Step = { rate, ok: 0, shed: 0, timeouts: 0, other: 0, p50: 0, p99: 0 };
  const pending: Promise<void>[] = [];
  const started = performance.now();
  const total = rate * SECONDS;
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const t0 = performance.now();
    pending.push(
      fetch(url, { signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS) })
        .then(async (r) => {
          await r.arrayBuffer();
          if (r.status === 200) {
            s.ok++;
            lat.push(performance.now() - t0);
          } else if (r.status === 503) s.shed++;
          else s.other++;
        })
        .catch(() => void s.timeouts++),
    );
  }
  await Promise.all(pending);
  s.p50 = pct(lat, 0.5);
  s.p99 = pct(lat, 0.99);
  return s;
}

async function curve(shed: boolean): Promise<Step[]> {
  const port = await freePort();
  const api = new AppProcess(`overload-${shed ? 'shed' : 'noshed'}`, 'api/server.ts', {
    API_PORT: String(port),
    API_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    SHED_MAX_IN_FLIGHT: shed ? '64' : '0',
    SHED_MAX_LAG_MS: shed ? '150' : '0',
  });
  await api.start();
  const base = `http://127.0.0.1:${port}`;
  try {
    const admin = { authorization: `Bearer ${process.env.ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const created = await fetch(`${base}/v1/admin/events`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({
        name: 'Overload bench',
        waitingRoom: { enabled: false },
        sections: [{ id: 'A', name: 'A', rows: 10, seatsPerRow: 50, priceCents: 100 }],
      }),
    });
    const { eventId } = (await created.json()) as { eventId: string };
    const url = `${base}/v1/events/${eventId}/seats`;
    await fetch(url); // warm the cache
    const steps: Step[] = [];
    for (const rate of STEPS) {
      steps.push(await step(url, rate));
      await sleep(1000);
    }
    const after = await fetch(url);
    process.stdout.write(
      `${shed ? 'with shedding' : 'without shedding'}: after the last step a single request answers ${after.status} (recovered without a restart)\n`,
    );
    return steps;
  } finally {
    await api.terminate();
  }
}

function print(title: string, steps: Step[]): void {
  process.stdout.write(`\n${title}\n  offered/s  goodput/s  503/s  timeouts  other  p50 ms  p99 ms\n`);
  for (const s of steps) {
    const per = (n: number) => (n / SECONDS).toFixed(0).padStart(9);
    process.stdout.write(
      `  ${String(s.rate).padStart(9)}  ${per(s.ok)}  ${(s.shed / SECONDS).toFixed(0).padStart(5)}  ${String(s.timeouts).padStart(8)}  ${String(s.other).padStart(5)}  ${s.p50.toFixed(0).padStart(6)}  ${s.p99.toFixed(0).padStart(6)}\n`,
    );
  }
}

function chart(a: Step[], b: Step[]): void {
  const max = Math.max(...a.map((s) => s.ok), ...b.map((s) => s.ok), 1);
  process.stdout.write('\ngoodput (answered 200 within the client timeout): # with shedding, = without\n');
  for (let i = 0; i < a.length; i++) {
    const bar = (n: number) => Math.round((n / max) * 50);
    process.stdout.write(`  ${String(a[i]!.rate).padStart(5)}/s ${'#'.repeat(bar(a[i]!.ok))}\n          ${'='.repeat(bar(b[i]!.ok))}\n`);
  }
}

async function main(): Promise<void> {
  const withShed = await curve(true);
  const without = await curve(false);
  print('with shedding (SHED_MAX_IN_FLIGHT=64, SHED_MAX_LAG_MS=150)', withShed);
  print('without shedding', without);
  chart(withShed, without);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
