/**
 * CPU time per tier of the cluster topology, from each process's own counters:
 * /proc/<pid>/stat (utime + stime) for the processes scripts/cluster.sh
 * started (by process group, from their pid files), the Postgres backends
 * that serve them (found by the client ports of their sockets), and Redis's
 * own INFO cpu and commandstats on every node of Redis Cluster.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import Redis from 'ioredis';

const TICKS = 100; // USER_HZ on Linux

export type Tier = 'api' | 'worker' | 'temporal' | 'lb' | 'postgres (app)' | 'postgres (Temporal)' | 'redis';
export const TIERS: Tier[] = ['api', 'worker', 'temporal', 'lb', 'postgres (app)', 'postgres (Temporal)', 'redis'];

export interface CpuSnapshot {
  at: number;
  /** CPU milliseconds per tier since each process started. */
  ms: Record<Tier, number>;
  /** Redis commands executed, summed over the nodes. */
  redisCalls: number;
}

interface ProcStat {
  pgrp: number;
  ms: number;
}

function procStat(pid: string): ProcStat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pgrp: Number(f[2]), ms: ((Number(f[11]) + Number(f[12])) * 1000) / TICKS };
  } catch {
    return null;
  }
}

/** Local ports of the TCP sockets the given processes hold open. */
function socketPorts(pids: string[]): number[] {
  const inodes = new Set<string>();
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        // closed meanwhile
      }
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && inodes.has(f[9]!)) ports.push(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

/** CPU milliseconds (utime + stime) of every live process in each named set of process groups, with their pids. */
export function cpuByProcessGroup<K extends string>(groups: Record<K, number[]>): Record<K, { ms: number; pids: string[] }> {
  const out = Object.fromEntries(Object.keys(groups).map((k) => [k, { ms: 0, pids: [] as string[] }])) as Record<
    K,
    { ms: number; pids: string[] }
  >;
  const byGroup = new Map<number, K>();
  for (const [name, pgids] of Object.entries(groups) as [K, number[]][]) for (const g of pgids) byGroup.set(g, name);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = procStat(entry);
    const name = s && byGroup.get(s.pgrp);
    if (!s || !name) continue;
    out[name].ms += s.ms;
    out[name].pids.push(entry);
  }
  return out;
}

export interface BackendsCpu {
  ms: number;
  byDatabase: Record<string, number>;
  byBackend: Record<number, number>;
}

/** CPU milliseconds the backends alive at `after` spent since `before` (a backend started meanwhile counts whole). */
export function backendsDeltaMs(before: BackendsCpu, after: BackendsCpu): number {
  return Object.entries(after.byBackend).reduce((a, [pid, ms]) => a + ms - (before.byBackend[Number(pid)] ?? 0), 0);
}

/**
 * CPU milliseconds of the Postgres backends serving each named set of client
 * processes (matched by the local ports of the clients' sockets), in total, by
 * database and by backend pid (a pool that closes and opens connections
 * between two snapshots changes the set of backends: backendsDeltaMs).
 */
export async function postgresBackendsCpu<K extends string>(pool: Pool, clients: Record<K, string[]>): Promise<Record<K, BackendsCpu>> {
  const owner = new Map<number, K>();
  for (const [name, pids] of Object.entries(clients) as [K, string[]][]) for (const port of socketPorts(pids)) owner.set(port, name);
  const out = Object.fromEntries(Object.keys(clients).map((k) => [k, { ms: 0, byDatabase: {}, byBackend: {} }])) as Record<K, BackendsCpu>;
  const { rows } = await pool.query<{ pid: number; client_port: number; datname: string }>(
    `SELECT pid, client_port, datname FROM pg_stat_activity WHERE backend_type = 'client backend' AND client_port = ANY($1::int[])`,
    [[...owner.keys()]],
  );
  for (const r of rows) {
    const s = procStat(String(r.pid));
    const name = owner.get(r.client_port);
    if (!s || !name) continue;
    out[name].ms += s.ms;
    out[name].byDatabase[r.datname] = (out[name].byDatabase[r.datname] ?? 0) + s.ms;
    out[name].byBackend[r.pid] = s.ms;
  }
  return out;
}

export class ClusterCpu {
  private readonly groups: Record<'api' | 'worker' | 'temporal' | 'lb' | 'redis', number[]>;

  constructor(
    runDir: string,
    private readonly pool: Pool,
    private readonly redisNodes: { host: string; port: number }[],
    private readonly temporalDatabases: string[],
  ) {
    const pidOf = (name: string): number[] => {
      try {
        return [Number(readFileSync(path.join(runDir, `${name}.pid`), 'utf8').trim())];
      } catch {
        return [];
      }
    };
    const names = readdirSync(runDir)
      .filter((f) => f.endsWith('.pid'))
      .map((f) => f.slice(0, -4));
    const like = (re: RegExp) => names.filter((n) => re.test(n)).flatMap(pidOf);
    this.groups = {
      api: like(/^cluster-api-\d+$/),
      worker: like(/^cluster-worker-\d+$/),
      temporal: pidOf('cluster-temporal'),
      lb: pidOf('cluster-lb'),
      redis: like(/^cluster-redis-\d+$/),
    };
  }

  /** How many API and worker processes are measured. */
  get replicas(): { api: number; worker: number } {
    return { api: this.groups.api.length, worker: this.groups.worker.length };
  }

  async snapshot(): Promise<CpuSnapshot> {
    const ms = Object.fromEntries(TIERS.map((t) => [t, 0])) as Record<Tier, number>;
    const groups = cpuByProcessGroup(this.groups);
    for (const [tier, g] of Object.entries(groups)) {
      // Redis is measured by its own INFO cpu below (the same counters, per node).
      if (tier !== 'redis') ms[tier as Tier] += g.ms;
    }
    // Postgres: the backends whose client is one of the topology's processes.
    const backends = await postgresBackendsCpu(this.pool, {
      app: [...groups.api.pids, ...groups.worker.pids],
      temporal: groups.temporal.pids,
    });
    ms['postgres (app)'] += backends.app.ms;
    for (const [db, v] of Object.entries(backends.temporal.byDatabase))
      if (this.temporalDatabases.includes(db)) ms['postgres (Temporal)'] += v;
    // Redis: INFO cpu (seconds, user + sys) and the commands counted by commandstats.
    let redisCalls = 0;
    for (const node of this.redisNodes) {
      const r = new Redis({ host: node.host, port: node.port, lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await r.connect();
        const info = await r.info('cpu');
        const get = (k: string) => Number(new RegExp(`^${k}:([0-9.]+)`, 'm').exec(info)?.[1] ?? 0);
        ms.redis += (get('used_cpu_user') + get('used_cpu_sys')) * 1000;
        const stats = await r.info('commandstats');
        for (const m of stats.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) redisCalls += Number(m[1]);
      } finally {
        r.disconnect();
      }
    }
    return { at: performance.now(), ms, redisCalls };
  }
}

export function cpuDelta(a: CpuSnapshot, b: CpuSnapshot): { seconds: number; ms: Record<Tier, number>; redisCalls: number } {
  return {
    seconds: (b.at - a.at) / 1000,
    ms: Object.fromEntries(TIERS.map((t) => [t, b.ms[t] - a.ms[t]])) as Record<Tier, number>,
    redisCalls: b.redisCalls - a.redisCalls,
  };
}
