/**
 * The one launcher of onsale's own processes as children (tsx workers/main.ts,
 * tsx api/server.ts), for fault scenarios, benchmarks and tests that need a
 * real process: each on its own task queue and port and in its own process
 * group, so kill -9 takes the whole group.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const LOG_DIR = path.join(ROOT, '.state/logs/processes');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitFor(what: string, fn: () => Promise<boolean> | boolean, timeoutMs = 120_000, everyMs = 100): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      if (await fn()) return Date.now() - started;
    } catch {
      // not yet
    }
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs / 1000}s`);
    await sleep(everyMs);
  }
}

/** What AppProcess runs: the worker, the API (or the benchmark's floor under it, ready like the API), or a benchmark's worker process (ready like the worker). */
export type AppEntry = 'workers/main.ts' | 'api/server.ts' | 'bench/read-floor.ts' | 'bench/temporal-worker.ts';
const SERVES_HTTP = new Set<AppEntry>(['api/server.ts', 'bench/read-floor.ts']);

/** A worker or API child process with its output in a log file (.state/logs/processes/ unless told). */
export class AppProcess {
  private child: ChildProcess | null = null;
  private output = '';
  private exited: Promise<void> = Promise.resolve();
  starts = 0;

  constructor(
    readonly name: string,
    private readonly entry: AppEntry,
    private readonly env: NodeJS.ProcessEnv,
    private readonly logDir = LOG_DIR,
    /** The checkout whose code runs (another worktree, to compare two versions side by side). */
    private readonly cwd = ROOT,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get alive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and waits until it is ready (the worker polls; the API answers /readyz). */
  async start(): Promise<number> {
    const started = Date.now();
    mkdirSync(this.logDir, { recursive: true });
    const log = createWriteStream(path.join(this.logDir, `${this.name}.log`), { flags: 'a' });
    this.output = '';
    this.starts++;
    // ONSALE_CHILD_NODE_FLAGS: Node flags for the child, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile
    // the API or the worker under a benchmark (the profile is written when the process exits gracefully).
    const nodeFlags = process.env.ONSALE_CHILD_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
    const child = spawn(TSX, [...nodeFlags, this.entry], {
      cwd: this.cwd,
      env: { ...process.env, ...this.env },
      detached: true, // its own process group, so a kill reaches tsx's node child too
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const collect = (chunk: Buffer) => {
      log.write(chunk);
      if (this.output.length < 1_000_000) this.output += chunk.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    void this.exited.then(() => log.end());
    if (!SERVES_HTTP.has(this.entry)) {
      await waitFor(
        `${this.name} start`,
        () => {
          if (!this.alive) throw new Error(`${this.name} exited: ${this.output.slice(-2000)}`);
          return this.output.includes('"worker started"');
        },
        180_000,
        200,
      ).catch((err) => {
        if (!this.alive) throw new Error(`${this.name} exited during start-up:\n${this.output.slice(-2000)}`);
        throw err;
      });
    } else {
      await waitFor(
        `${this.name} ready`,
        async () => {
          if (!this.alive) throw new Error('exited');
          const r = await fetch(`http://127.0.0.1:${this.env.API_PORT}/readyz`);
          return r.status === 200;
        },
        120_000,
        200,
      ).catch((err) => {
        if (!this.alive) throw new Error(`${this.name} exited during start-up:\n${this.output.slice(-2000)}`);
        throw err;
      });
    }
    return Date.now() - started;
  }

  /** kill -9 of the whole process group: no shutdown hook runs, in-flight work is simply gone. */
  async kill9(): Promise<void> {
    if (!this.child?.pid) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await this.exited;
  }

  /** SIGTERM: the graceful path (the API drains requests, the worker finishes its activities). */
  async terminate(timeoutMs = 30_000): Promise<void> {
    if (!this.child?.pid || !this.alive) return;
    try {
      process.kill(-this.child.pid, 'SIGTERM');
    } catch {
      return;
    }
    const done = await Promise.race([this.exited.then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!done) await this.kill9();
  }

  /** Lines of the process's output, for checks such as "no secret was logged". */
  get logText(): string {
    return this.output;
  }
}
