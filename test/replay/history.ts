/**
 * Writes a closed workflow's history from the Temporal dev server to
 * test/replay/<prefix>-<name>.json, for replay.test.ts. The export is the
 * pinned Temporal CLI's JSON (scripts/lib/common.sh): the format every
 * Temporal SDK's replayer reads.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../platform/config';

const ROOT = path.resolve(__dirname, '../..');

/** Returns a function that saves one workflow's history as `<prefix>-<name>.json`, where --prefix overrides the default. */
export function historyWriter(config: Config, defaultPrefix: string): (workflowId: string, name: string) => string {
  const at = process.argv.indexOf('--prefix');
  const prefix = at >= 0 ? process.argv[at + 1]! : defaultPrefix;
  const temporal = execFileSync('bash', ['-c', 'source scripts/lib/common.sh && printf %s "$TEMPORAL_BIN"'], { cwd: ROOT }).toString();
  return (workflowId, name) => {
    const json = execFileSync(temporal, [
      'workflow',
      'show',
      '--workflow-id',
      workflowId,
      '--output',
      'json',
      '--address',
      config.TEMPORAL_ADDRESS,
      '--namespace',
      config.TEMPORAL_NAMESPACE,
      '--disable-config-env',
      '--disable-config-file',
    ]).toString();
    const file = path.join(__dirname, `${prefix}-${name}.json`);
    writeFileSync(file, json.endsWith('\n') ? json : json + '\n');
    return `${path.basename(file)} (${(JSON.parse(json) as { events: unknown[] }).events.length} events)`;
  };
}
