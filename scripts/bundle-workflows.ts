/**
 * Bundles the workflow code once, at image build time, so a worker starts
 * without running webpack (seconds of CPU per start on a small container) and
 * every replica runs byte-identical workflow code.
 *
 *   tsx scripts/bundle-workflows.ts [out]   (default dist/workflow-bundle.js)
 *
 * A worker given WORKFLOW_BUNDLE_PATH loads this file instead of bundling
 * workflows/ itself. The bundle carries the tracing interceptors, inert
 * unless tracing is on (workers/workflow-code.ts).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_INTERCEPTOR_MODULES, WORKFLOWS_PATH } from '../workers/workflow-code';

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'dist', 'workflow-bundle.js'));
  const started = Date.now();
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES });
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, code);
  process.stdout.write(`workflow bundle: ${out} (${Math.round(code.length / 1024)} KiB, ${Date.now() - started} ms)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bundling workflows failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
