/** Worker concurrency: activities wait on I/O, so many run at once per process. */
export const WORKER_TUNING = {
  maxConcurrentActivityTaskExecutions: 200,
  maxConcurrentWorkflowTaskExecutions: 100,
  maxCachedWorkflows: 5000,
};
