/**
 * Empty workflows per second on several Temporal servers of this machine,
 * side by side: the CLI dev server (7233) and the real server of
 * scripts/cluster.sh (7333). Windows alternate between the servers so that
 * the machine's background load falls on both alike. Each server's CPU time
 * over a window (from /proc, when its pid file is given) gives the server's
 * cost per workflow; Postgres' CPU is included for servers that use it.
 *
 *   tsx bench/temporal-servers.ts dev=127.0.0.1:7233@/path/temporal.pid \
 *     cluster=127.0.0.1:7333@.state/run/cluster-temporal.pid \
 *     [--concurrency 64] [--seconds 20] [--rounds 2]
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { installQuietRuntime, quietLogger } from '../harness/runtime';
import { runLoad } from './lib/load';

interface Target {
  name: string;
  address: string;
  pid?: number;
}

const CLOCK_TICKS = 100; // getconf CLK_TCK on Linux

function cpuSeconds(pid: number): number {
  // utime and stime of the process and its waited-for children, fields 14-17 of /proc/<pid>/stat.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields.slice(11, 15).reduce((a, f) => a + Number(f), 0) / CLOCK_TICKS;
}

/** Every postgres process on the machine: the cluster's server writes through them. */
function postgresCpuSeconds(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
      total += cpuSeconds(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

function parseArgs(argv: string[]) {
  const targets: Target[] = [];
  const opts = { concurrency: 64, seconds: 20, rounds: 2 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--concurrency') opts.concurrency = Number(argv[++i]);
    else if (a === '--seconds') opts.seconds = Number(argv[++i]);
    else if (a === '--rounds') opts.rounds = Number(argv[++i]);
    else {
      const m = /^([a-z0-9-]+)=([^@]+)(?:@(.+))?$/.exec(a);
      if (!m) throw new Error(`expected name=host:port[@pidfile], got ${a}`);
      const pid = m[3] ? Number(readFileSync(m[3], 'utf8').trim()) : undefined;
      targets.push({ name: m[1]!, address: m[2]!, pid });
    }
  }
  if (targets.length === 0) throw new Error('name at least one server: dev=127.0.0.1:7233 cluster=127.0.0.1:7333');
  return { targets, opts };
}

async function main(): Promise<void> {
  const { targets, opts } = parseArgs(process.argv.slice(2));
  installQuietRuntime();
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: quietLogger });
  const taskQueue = `servers-${randomBytes(4).toString('hex')}`;
  const setups = await Promise.all(
    targets.map(async (t) => {
      const native = await NativeConnection.connect({ address: t.address });
      const worker = await Worker.create({
        connection: native,
        namespace: 'default',
        taskQueue,
        workflowBundle: { code },
        maxConcurrentWorkflowTaskExecutions: 100,
        maxCachedWorkflows: 5000,
      });
      const running = worker.run();
      const connection = await Connection.connect({ address: t.address });
      return { t, native, worker, running, connection, client: new Client({ connection, namespace: 'default' }) };
    }),
  );
  const rows: Record<string, unknown>[] = [];
  try {
    for (let round = 1; round <= opts.rounds; round++) {
      for (const s of setups) {
        const cpu0 = s.t.pid ? cpuSeconds(s.t.pid) : NaN;
        const pg0 = postgresCpuSeconds();
        const wall0 = process.cpuUsage();
        const result = await runLoad({
          concurrency: opts.concurrency,
          durationMs: opts.seconds * 1000,
          op: async () => {
            await s.client.workflow.execute('empty', { taskQueue, workflowId: `servers-${randomBytes(8).toString('hex')}` });
            return 'ok';
          },
        });
        const ok = result.outcomes.ok ?? 0;
        const serverCpu = s.t.pid ? cpuSeconds(s.t.pid) - cpu0 : NaN;
        const pgCpu = postgresCpuSeconds() - pg0;
        const self = process.cpuUsage(wall0);
        const row = {
          round,
          server: s.t.name,
          address: s.t.address,
          workflows: ok,
          errors: result.outcomes.error ?? 0,
          perSecond: result.rates.ok ?? 0,
          p50ms: Math.round(result.latency.p50),
          p99ms: Math.round(result.latency.p99),
          serverCpuMsPerWf: ok ? Math.round(((serverCpu * 1000) / ok) * 10) / 10 : null,
          postgresCpuMsPerWf: ok ? Math.round(((pgCpu * 1000) / ok) * 10) / 10 : null,
          clientAndWorkerCpuMsPerWf: ok ? Math.round(((self.user + self.system) / 1000 / ok) * 10) / 10 : null,
          loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
        };
        rows.push(row);
        process.stdout.write(`${JSON.stringify(row)}\n`);
      }
    }
  } finally {
    for (const s of setups) s.worker.shutdown();
    await Promise.allSettled(setups.map((s) => s.running));
    await Promise.allSettled(setups.flatMap((s) => [s.connection.close(), s.native.close()]));
  }
  const by = (name: string) => rows.filter((r) => r.server === name).map((r) => r.perSecond as number);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  process.stdout.write('\nserver    mean wf/s  windows\n');
  for (const t of targets)
    process.stdout.write(`${t.name.padEnd(9)} ${mean(by(t.name)).toFixed(1).padStart(9)}  ${by(t.name).join(', ')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
