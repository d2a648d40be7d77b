/**
 * What goes into the workflow sandbox, in one place for every way it is built:
 * the worker bundling at start, the image's prebuilt bundle
 * (scripts/bundle-workflows.ts) and the test harness. The tracing interceptor
 * module is always in: it stays inert unless a workflow was started with a
 * trace context, so a prebuilt bundle serves workers with tracing on or off.
 */
export const WORKFLOWS_PATH = require.resolve('../workflows');
export const WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('../workflows/tracing')];
