/**
 * The waiting room's two hot calls next to the same server's bare endpoint,
 * in alternating slices so that the machine's load (shared cores) falls on
 * all three alike:
 *
 *   set -a; source .state/stack.env; set +a
 *   npx tsx bench/read-paths.ts [--api http://127.0.0.1:PORT] [--rounds 6] [--slice-ms 1500] [--concurrency 32]
 *
 * Without --api it starts api/server.ts in its own process (as `npm run bench`
 * does). Each round runs GET /healthz, POST /queue (a new buyer from a new
 * address each time) and GET /queue/me (round-robin over the buyers that
 * joined), one slice each, rotating which goes first. It prints numbers and
 * ratios with the machine's load; it asserts nothing.
 */
import { readFileSync } from 'node:fs';
import { HttpClient, clientAddress } from './lib/http';
import { type LoadResult, runLoad } from './lib/load';
import { benchConfig, startApiProcess } from './lib/services';
import { mintBuyers } from './suites/http';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const loadavg = () => {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'unknown';
  }
};

async function main(): Promise<void> {
  const rounds = Number(arg('rounds', '6'));
  const sliceMs = Number(arg('slice-ms', '1500'));
  const concurrency = Number(arg('concurrency', '32'));
  const config = benchConfig();
  const loadAtStart = loadavg();
  const api = process.argv.includes('--api') ? { url: arg('api', ''), stop: async () => undefined } : await startApiProcess(config);
  const http = new HttpClient(api.url, concurrency + 8);
  try {
    const created = await http.json('POST', '/v1/admin/events', {
      token: config.ADMIN_TOKEN,
      body: {
        name: 'read-path bench',
        holdSeconds: 300,
        maxSeatsPerBuyer: 6,
        waitingRoom: { enabled: true, maxActiveCheckouts: 10, admitPerMinute: 60 },
        sections: [{ id: 'A', name: 'Floor', rows: 10, seatsPerRow: 10, priceCents: 5000 }],
      },
    });
    const eventId = (created.body as { eventId: string }).eventId;
    await http.json('POST', `/v1/admin/events/${eventId}/open`, { token: config.ADMIN_TOKEN });
    // Enough buyers that joins never run out within a slice.
    const buyers = await mintBuyers(config, Math.ceil((rounds * sliceMs) / 1000) * 2000, 'rp');
    let nextJoin = 0;
    let joined = 0;
    const slices = {
      healthz: () =>
        runLoad({
          concurrency,
          durationMs: sliceMs,
          op: async () => ((await http.request('GET', '/healthz')).status === 200 ? 'ok' : 'error'),
        }),
      join: () =>
        runLoad({
          concurrency,
          durationMs: sliceMs,
          maxOps: buyers.length - nextJoin,
          op: async () => {
            const i = nextJoin++;
            const r = await http.request('POST', `/v1/events/${eventId}/queue`, {
              token: buyers[i]!.token,
              headers: { 'x-forwarded-for': clientAddress(i) },
            });
            if (r.status === 201) joined = Math.max(joined, i + 1);
            return r.status === 201 || r.status === 200 ? 'ok' : `http${r.status}`;
          },
        }),
      me: () =>
        runLoad({
          concurrency,
          durationMs: sliceMs,
          op: async (_l, i) => {
            const r = await http.request('GET', `/v1/events/${eventId}/queue/me`, { token: buyers[i % Math.max(1, joined)]!.token });
            return r.status === 200 ? 'ok' : `http${r.status}`;
          },
        }),
    };
    const all = ['healthz', 'join', 'me'] as const;
    const only = arg('only', all.join(',')).split(',');
    const names = all.filter((n) => only.includes(n));
    const totals: Record<(typeof all)[number], { ok: number; seconds: number; other: Record<string, number>; p99: number[] }> = {
      healthz: { ok: 0, seconds: 0, other: {}, p99: [] },
      join: { ok: 0, seconds: 0, other: {}, p99: [] },
      me: { ok: 0, seconds: 0, other: {}, p99: [] },
    };
    await slices.join(); // warm-up: first buyers in, JIT warm
    if (!names.includes('join')) totals.join.ok = 0;
    for (let r = 0; r < rounds; r++) {
      const order = names.map((_, k) => names[(k + r) % names.length]!);
      for (const name of order) {
        const res: LoadResult = await slices[name]();
        const t = totals[name];
        t.ok += res.outcomes.ok ?? 0;
        t.seconds += res.seconds;
        t.p99.push(res.latency.p99);
        for (const [k, n] of Object.entries(res.outcomes)) if (k !== 'ok') t.other[k] = (t.other[k] ?? 0) + n;
      }
    }
    const rate = (n: (typeof all)[number]) => totals[n].ok / totals[n].seconds;
    const base = names.includes('healthz') ? rate('healthz') : NaN;
    const lines = [`read paths, ${rounds} rounds of ${sliceMs} ms slices, ${concurrency} in flight, alternating`];
    for (const n of names) {
      const other = Object.entries(totals[n].other)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ');
      lines.push(
        `  ${n.padEnd(8)} ${rate(n).toFixed(1).padStart(8)} req/s  ${(rate(n) / base).toFixed(3)}× healthz  p99 (median slice) ${totals[n].p99.sort((a, b) => a - b)[Math.floor(totals[n].p99.length / 2)]} ms${other ? `  (${other})` : ''}`,
      );
    }
    lines.push(`machine load (1/5/15 min): ${loadAtStart} at start, ${loadavg()} at end`);
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    http.close();
    await api.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`read-paths bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
