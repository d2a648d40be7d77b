/** The shared backing services a fault scenario breaks, through scripts/stack.sh. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../../harness/processes';

/** Stops, starts or restarts one service of the shared stack. */
export function stack(...args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('bash', [path.join(ROOT, 'scripts/stack.sh'), ...args], { cwd: ROOT, timeout: 180_000 }, (err, _out, stderr) =>
      err ? reject(new Error(`stack.sh ${args.join(' ')} failed: ${stderr}`)) : resolve(),
    );
  });
}
