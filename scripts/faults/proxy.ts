/**
 * A fault-injecting HTTP proxy in front of stripe-mock. The worker under test
 * points STRIPE_API_URL at it; the scenario switches its mode while payments
 * are in flight:
 *   pass     forward (optionally after a delay, to keep payments in flight)
 *   hang     accept and never answer: the Stripe SDK's own timeout fires
 *   fail     answer 500 or drop the connection, alternately
 *   lose     forward, so the charge happens, then drop the answer: the
 *            retry must carry the same idempotency key or the buyer pays twice
 * It records every charge request by idempotency key, so the scenario can
 * show that a retried charge reused its key.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type ProxyMode = 'pass' | 'hang' | 'fail' | 'lose';

export interface ChargeAttempt {
  idempotencyKey: string;
  mode: ProxyMode;
  /** The upstream's status when the request reached it, else null. */
  upstreamStatus: number | null;
}

export class FaultProxy {
  mode: ProxyMode = 'pass';
  delayMs = 0;
  /**
   * Faults for each charge by its attempt number (first attempt first): with
   * ['fail', 'lose', 'hang'] every payment fails once, then is charged with
   * its answer lost, then times out, and goes through on its fourth attempt.
   */
  perChargeScript: ProxyMode[] = [];
  private readonly attemptsByKey = new Map<string, number>();
  readonly charges: ChargeAttempt[] = [];
  private inFlightCount = 0;
  private failToggle = false;
  private readonly hung = new Set<http.ServerResponse>();
  private server: http.Server | null = null;

  constructor(private readonly upstream: string) {}

  get inFlight(): number {
    return this.inFlightCount;
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Distinct idempotency keys of charges that reached stripe-mock and succeeded there: what Stripe would have charged. */
  chargedKeys(): Set<string> {
    return new Set(this.charges.filter((c) => c.upstreamStatus === 200).map((c) => c.idempotencyKey));
  }

  /** Charge requests that repeated an idempotency key already seen (the activity's retries). */
  sameKeyRetries(): number {
    return this.charges.length - new Set(this.charges.map((c) => c.idempotencyKey)).size;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const isCharge = req.method === 'POST' && req.url === '/v1/payment_intents';
    let mode = this.mode;
    if (isCharge && this.perChargeScript.length) {
      const key = String(req.headers['idempotency-key'] ?? '');
      const n = this.attemptsByKey.get(key) ?? 0;
      this.attemptsByKey.set(key, n + 1);
      if (mode === 'pass' && n < this.perChargeScript.length) mode = this.perChargeScript[n]!;
    }
    const attempt: ChargeAttempt | null = isCharge
      ? { idempotencyKey: String(req.headers['idempotency-key'] ?? ''), mode, upstreamStatus: null }
      : null;
    if (attempt) this.charges.push(attempt);
    this.inFlightCount++;
    res.on('close', () => this.inFlightCount--);

    if (mode === 'hang') {
      this.hung.add(res);
      res.on('close', () => this.hung.delete(res));
      return;
    }
    if (mode === 'fail') {
      this.failToggle = !this.failToggle;
      if (this.failToggle) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { type: 'api_error', message: 'injected fault' } }));
      } else {
        res.destroy();
      }
      return;
    }
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    try {
      const upstream = await fetch(this.upstream + req.url, {
        method: req.method,
        headers: Object.fromEntries(
          Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k)) as [string, string][],
        ),
        body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
      });
      const text = Buffer.from(await upstream.arrayBuffer());
      if (attempt) attempt.upstreamStatus = upstream.status;
      if (mode === 'lose') {
        res.destroy();
        return;
      }
      const headers: Record<string, string> = {};
      upstream.headers.forEach((v, k) => {
        if (!['content-encoding', 'transfer-encoding', 'connection', 'content-length'].includes(k)) headers[k] = v;
      });
      res.writeHead(upstream.status, headers);
      res.end(text);
    } catch {
      res.destroy();
    }
  }
}
