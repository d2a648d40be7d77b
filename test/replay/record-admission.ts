/**
 * Records a real admission workflow history from the running Temporal dev
 * server into test/replay/, for replay.test.ts: a queue opened with nobody
 * waiting (the controller goes to sleep), woken by the first joins, admitted,
 * paused, resumed, given new limits, and closed through the admin API. Run
 * with the stack up:
 *
 *   set -a; source .state/stack.env; set +a
 *   npx tsx test/replay/record-admission.ts [--prefix admission-v2]
 */
import { pauseUpdate, resumeUpdate, setLimitsUpdate } from '../../domain/admission';
import { admissionWorkflowId } from '../../domain/ids';
import { request, createEvent, newBuyer } from '../support/http';
import { startApi, startWorker, testConfig } from '../../harness/stack';
import { historyWriter } from './history';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const config = testConfig({ LOG_LEVEL: 'warn' });
  const writeHistory = historyWriter(config, 'admission-v2');
  const api = await startApi(config);
  const worker = await startWorker(config);
  try {
    const eventId = await createEvent(api.url, config.ADMIN_TOKEN, {
      name: 'Replay recording (waiting room)',
      waitingRoom: { enabled: true, maxActiveCheckouts: 3, admitPerMinute: 600 },
    });
    const buyers = [];
    for (let i = 0; i < 6; i++) buyers.push(await newBuyer(api.url, `Queued ${i}`));
    // Nobody waits yet: the controller goes to sleep; the joins wake it.
    await pause(2000);
    for (const b of buyers) await request(api.url, 'POST', `/v1/events/${eventId}/queue`, { token: b.token });
    await pause(3000);
    const handle = api.deps.temporal.workflow.getHandle(admissionWorkflowId(eventId));
    await handle.executeUpdate(pauseUpdate);
    await pause(2500);
    await handle.executeUpdate(resumeUpdate);
    await handle.executeUpdate(setLimitsUpdate, { args: [{ maxActiveCheckouts: 6 }] });
    await pause(3000);
    const closed = await request(api.url, 'POST', `/v1/admin/events/${eventId}/close`, { token: config.ADMIN_TOKEN });
    if (closed.status !== 200) throw new Error(`close failed: ${closed.status} ${JSON.stringify(closed.body)}`);
    await handle.result();
    process.stdout.write(`recorded ${writeHistory(handle.workflowId, 'sleep-wake-pause-resume-limits-close')}\n`);
  } finally {
    await worker.stop();
    await api.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
