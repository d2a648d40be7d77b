/**
 * Records a real admission workflow history from the running Temporal dev
 * server into test/replay/, for replay.test.ts: a queue opened, admitted,
 * paused, resumed, given new limits, and closed. Run with the stack up:
 *
 *   set -a; source .state/stack.env; set +a
 *   npx tsx test/replay/record-admission.ts [--prefix admission-v1]
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { closeUpdate, pauseUpdate, resumeUpdate, setLimitsUpdate } from '../../domain/admission';
import { admissionWorkflowId } from '../../domain/ids';
import { call, createEvent, newBuyer } from '../support/http';
import { startApi, startWorker, testConfig } from '../../harness/stack';

const ROOT = path.resolve(__dirname, '../..');
const TEMPORAL_BIN = execFileSync('bash', ['-c', 'source scripts/lib/common.sh && printf %s "$TEMPORAL_BIN"'], { cwd: ROOT }).toString();
const prefix = process.argv.includes('--prefix') ? process.argv[process.argv.indexOf('--prefix') + 1]! : 'admission-v1';
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const config = testConfig({ LOG_LEVEL: 'warn' });
  const api = await startApi(config);
  const worker = await startWorker(config);
  try {
    const eventId = await createEvent(api.url, config.ADMIN_TOKEN, {
      name: 'Replay recording (waiting room)',
      waitingRoom: { enabled: true, maxActiveCheckouts: 3, admitPerMinute: 600 },
    });
    const buyers = [];
    for (let i = 0; i < 6; i++) buyers.push(await newBuyer(api.url, `Queued ${i}`));
    for (const b of buyers) await call(api.url, 'POST', `/v1/events/${eventId}/queue`, { token: b.token });
    await pause(3000);
    const handle = api.deps.temporal.workflow.getHandle(admissionWorkflowId(eventId));
    await handle.executeUpdate(pauseUpdate);
    await pause(2500);
    await handle.executeUpdate(resumeUpdate);
    await handle.executeUpdate(setLimitsUpdate, { args: [{ maxActiveCheckouts: 6 }] });
    await pause(3000);
    await handle.executeUpdate(closeUpdate);
    await handle.result();
    const json = execFileSync(TEMPORAL_BIN, [
      'workflow',
      'show',
      '--workflow-id',
      handle.workflowId,
      '--output',
      'json',
      '--address',
      config.TEMPORAL_ADDRESS,
      '--namespace',
      config.TEMPORAL_NAMESPACE,
      '--disable-config-env',
      '--disable-config-file',
    ]).toString();
    const file = path.join(__dirname, `${prefix}-pause-resume-limits-close.json`);
    writeFileSync(file, json.endsWith('\n') ? json : json + '\n');
    process.stdout.write(`recorded ${path.basename(file)} (${(JSON.parse(json) as { events: unknown[] }).events.length} events)\n`);
  } finally {
    await worker.stop();
    await api.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
