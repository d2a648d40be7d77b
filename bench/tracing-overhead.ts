/**
 * What the tracing interceptor module costs a worker while tracing is off:
 * every workflow bundle carries it (workers/workflow-code.ts), inert for a
 * workflow started without a trace context. The empty baseline workflow runs
 * on two workers of this process, one bundled without the module and one with
 * it, in windows that alternate between them so the machine's background load
 * falls on both alike. Reports workflows per second and this process's CPU
 * (client and worker) per workflow, with the load average of each window.
 *
 *   tsx bench/tracing-overhead.ts [--concurrency 32] [--seconds 10] [--rounds 3]
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { installQuietRuntime, quietLogger } from '../harness/runtime';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../workers/workflow-code';
import { runLoad } from './lib/load';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

async function main(): Promise<void> {
  const opts = { concurrency: option('concurrency', 32), seconds: option('seconds', 10), rounds: option('rounds', 3) };
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  installQuietRuntime();
  const variants = [
    { name: 'without module', workflowInterceptorModules: [] as string[] },
    { name: 'with module (off)', workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES },
  ];
  const native = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });
  const setups = await Promise.all(
    variants.map(async (v) => {
      const { code } = await bundleWorkflowCode({
        workflowsPath: require.resolve('./workflows'),
        workflowInterceptorModules: v.workflowInterceptorModules,
        logger: quietLogger,
      });
      const taskQueue = `tracing-overhead-${randomBytes(4).toString('hex')}`;
      const worker = await Worker.create({
        connection: native,
        namespace: 'default',
        taskQueue,
        workflowBundle: { code },
        maxConcurrentWorkflowTaskExecutions: 100,
        maxCachedWorkflows: 5000,
      });
      return { ...v, taskQueue, worker, running: worker.run() };
    }),
  );
  const rows: { variant: string; perSecond: number; cpuMsPerWf: number }[] = [];
  try {
    for (let round = 1; round <= opts.rounds; round++) {
      // Alternate which variant goes first, so neither always runs on a warmer machine.
      const order = round % 2 ? setups : [...setups].reverse();
      for (const s of order) {
        const cpu0 = process.cpuUsage();
        const result = await runLoad({
          concurrency: opts.concurrency,
          durationMs: opts.seconds * 1000,
          op: async () => {
            await client.workflow.execute('empty', { taskQueue: s.taskQueue, workflowId: `overhead-${randomBytes(8).toString('hex')}` });
            return 'ok';
          },
        });
        const ok = result.outcomes.ok ?? 0;
        const cpu = process.cpuUsage(cpu0);
        const row = {
          round,
          variant: s.name,
          workflows: ok,
          errors: result.outcomes.error ?? 0,
          perSecond: Math.round((result.rates.ok ?? 0) * 10) / 10,
          p50ms: Math.round(result.latency.p50),
          cpuMsPerWf: ok ? Math.round(((cpu.user + cpu.system) / 1000 / ok) * 100) / 100 : NaN,
          loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
        };
        rows.push(row);
        process.stdout.write(`${JSON.stringify(row)}\n`);
      }
    }
  } finally {
    for (const s of setups) s.worker.shutdown();
    await Promise.allSettled(setups.map((s) => s.running));
    await Promise.allSettled([connection.close(), native.close()]);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const of = (name: string) => rows.filter((r) => r.variant === name);
  const [base, inert] = variants.map((v) => of(v.name));
  process.stdout.write('\nvariant             wf/s   CPU ms/wf\n');
  for (const v of variants) {
    const r = of(v.name);
    process.stdout.write(
      `${v.name.padEnd(18)} ${mean(r.map((x) => x.perSecond))
        .toFixed(1)
        .padStart(5)}   ${mean(r.map((x) => x.cpuMsPerWf)).toFixed(2)}\n`,
    );
  }
  const ratio = (f: (r: { perSecond: number; cpuMsPerWf: number }) => number) => mean(inert!.map(f)) / mean(base!.map(f));
  process.stdout.write(
    `with/without: wf/s ${ratio((r) => r.perSecond).toFixed(3)}, CPU per workflow ${ratio((r) => r.cpuMsPerWf).toFixed(3)}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
