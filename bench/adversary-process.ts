/**
 * One adversary in a process of its own (bench/adversaries.ts forks it): its
 * own event loop, connection pool and, for the proxy farm, worker threads that
 * solve proof of work on every core it is given. It reports each account's
 * outcome and the CPU time the whole process spent, threads included.
 */
import { type ActorResult, type ActorSpec, inlineSolver, runActor, threadSolver } from './lib/actors';
import { HttpClient } from './lib/http';
import { rng } from './lib/stats';

export interface AdversaryJob {
  base: string;
  eventId: string;
  actors: ActorSpec[];
  /** Worker threads solving proof of work; 0 solves inline. */
  powThreads: number;
  sockets: number;
  deadlineMs: number;
  seed: number;
}

export interface AdversaryReport {
  results: ActorResult[];
  cpuSeconds: number;
}

process.once('message', (job: AdversaryJob) => {
  void (async () => {
    const cpu0 = process.cpuUsage();
    const http = new HttpClient(job.base, job.sockets);
    const solver = job.powThreads > 0 ? threadSolver(job.powThreads, job.deadlineMs) : inlineSolver;
    let over = false;
    const ctx = { http, eventId: job.eventId, solver, deadlineMs: job.deadlineMs, soldOut: () => over, random: rng(job.seed) };
    // The farm watches the sale too: once nothing is left it stops polling.
    const watch = setInterval(() => {
      void http
        .json('GET', `/v1/events/${job.eventId}`)
        .then((e) => void (over = e.status === 200 && e.body.counts.available === 0 && e.body.counts.held === 0))
        .catch(() => undefined);
    }, 1000);
    const results = await Promise.all(job.actors.map((a) => runActor(a, ctx)));
    clearInterval(watch);
    await solver.close();
    http.close();
    const used = process.cpuUsage(cpu0);
    const report: AdversaryReport = { results, cpuSeconds: (used.user + used.system) / 1e6 };
    process.send!(report, undefined, undefined, () => process.exit(0));
  })();
});
