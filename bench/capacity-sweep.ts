/**
 * One table from the capacity runs of scripts/capacity-sweep.sh: each run's
 * measured rates through HAProxy and the per-checkout CPU of the tiers the
 * variants change. Usage: tsx bench/capacity-sweep.ts DIR
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface Cost {
  op: string;
  perSecond: number;
  ms: Record<string, number>;
}
interface Run {
  replicas: { api: number; worker: number };
  costs: Cost[];
  checkout: Record<string, number>;
  actions: { perCheckout: number };
  machine: { loadBefore: number[]; loadAfter: number[] };
}

const dir = process.argv[2];
if (!dir) throw new Error('usage: tsx bench/capacity-sweep.ts DIR');
const runs = readdirSync(dir)
  .filter((d) => existsSync(path.join(dir, d, 'capacity.json')))
  .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
const f = (v: number | undefined) => (v === undefined ? '' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const lines = [
  '| run | API + worker processes | join/s | status/s | losing holds/s | checkouts/s | API ms/checkout | worker ms/checkout | Temporal ms/checkout | its Postgres ms/checkout | actions/checkout | load before → after |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
];
for (const name of runs) {
  const r = JSON.parse(readFileSync(path.join(dir, name, 'capacity.json'), 'utf8')) as Run;
  const rate = (op: string) => r.costs.find((c) => c.op === op)?.perSecond;
  lines.push(
    `| ${name} | ${r.replicas.api} + ${r.replicas.worker} | ${f(rate('join'))} | ${f(rate('status'))} | ${f(rate('hold attempt (losing)'))} | ${f(rate('purchase (confirm)'))} | ` +
      `${f(r.checkout.api)} | ${f(r.checkout.worker)} | ${f(r.checkout.temporal)} | ${f(r.checkout['postgres (Temporal)'])} | ${f(r.actions.perCheckout)} | ` +
      `${r.machine.loadBefore[0]!.toFixed(1)} → ${r.machine.loadAfter[0]!.toFixed(1)} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
