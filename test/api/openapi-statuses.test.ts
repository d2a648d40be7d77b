/**
 * The published description against the server, status by status: for every
 * operation in the served /openapi.json (so a new route is covered the day it
 * is added), the statuses that depend on who asks and how much they send are
 * documented exactly where they can happen, and really happen there:
 *   - 401 wherever the operation declares security: no token, or a token that
 *     is not one, answers 401 UNAUTHENTICATED; nowhere else is 401 documented;
 *   - 403 on administrator-only operations: a buyer's token answers 403
 *     FORBIDDEN; on a buyer's operation 403 is documented only where a recipe
 *     below provokes it (not admitted, proof of work missing, a sale for
 *     verified people only);
 *   - 413 on every operation that takes a body (POST, DELETE): one byte over
 *     BODY_LIMIT_BYTES answers 413 PAYLOAD_TOO_LARGE; never on a GET, which
 *     carries no body;
 *   - 429 exactly on the rate-limited operations listed here, 503 (load
 *     shedding) on every operation, both with Retry-After;
 * and every answer to those requests is documented for its operation, in the
 * error shape with a code of its status. The OpenAPI links are checked too:
 * each resolves to an operation, names parameters it has, and reads fields
 * the source answer has.
 */
import { createApp } from '../../api/app';
import { NEVER_SHED } from '../../api/middleware/shed';
import { ERROR_STATUS } from '../../domain/errors';
import { testConfig } from '../../harness/stack';
import { createEvent, newBuyer } from '../support/http';
import { useApiAndWorker } from '../support/stack';

interface Schema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
}
interface Parameter {
  name: string;
  in: string;
}
interface Link {
  operationRef?: string;
  operationId?: string;
  parameters?: Record<string, string>;
  requestBody?: unknown;
}
interface ResponseObject {
  headers?: Record<string, unknown>;
  content?: Record<string, { schema?: Schema }>;
  links?: Record<string, Link>;
}
interface Operation {
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema?: Schema }> };
  responses: Record<string, ResponseObject>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
const TAKES_BODY = new Set(['post', 'put', 'patch', 'delete']);

/**
 * The rate-limited operations (RATE_LIMITED) and how many requests in a row
 * reach the limit: the checkout limiter (hold and purchase, 20 per 10 s a
 * buyer), the waiting room's per-event limits (set to 1 on the limits
 * fixture) and the waitlist limiter (10 per 10 s a buyer).
 */
const RATE_LIMIT_RECIPES: Record<string, { body?: unknown; within: number; openSale?: boolean }> = {
  // Hold attempts are counted by the claim gate, so on a sale without a waiting room (no admission to show first);
  // a seat that does not exist is counted like any other attempt and changes nothing.
  'POST /v1/events/{eventId}/hold': { body: { seatIds: ['Z-99-99'] }, within: 21, openSale: true },
  'POST /v1/events/{eventId}/purchase': { body: { holdId: `hold_${'0'.repeat(32)}`, paymentMethod: 'pm_card_visa' }, within: 21 },
  'POST /v1/events/{eventId}/queue': { body: {}, within: 2 },
  'GET /v1/events/{eventId}/queue/me': { within: 2 },
  'POST /v1/events/{eventId}/waitlist': { body: { quantity: 1 }, within: 11 },
};

const config = testConfig();
const stack = useApiAndWorker(config);

let spec: Document;
let buyerToken: string;
/** Open, behind a waiting room that asks for proof of work: where a buyer's 403s happen. */
let roomEventId: string;
/** Open, behind a waiting room that allows one join and one status poll a minute: where its 429s happen. */
let limitsEventId: string;
let openSaleEventId: string;
/** Open, behind a waiting room for verified people only: the audit's buyer has no verified identity. */
let verifiedOnlyEventId: string;

/** A buyer's operation that can answer 403, and the request that makes it do so (on the waiting-room event unless named). */
const FORBIDDEN_RECIPES: Record<string, { body?: unknown; code: string; eventId?: () => string }> = {
  // Open, waiting room on, no X-Admission-Token.
  'POST /v1/events/{eventId}/hold': { body: { quantity: 1 }, code: 'NOT_ADMITTED' },
  // powDifficulty > 0 and no solved challenge.
  'POST /v1/events/{eventId}/queue': { body: {}, code: 'FORBIDDEN' },
  // The identity provider's signals are checked before a challenge is handed out.
  'GET /v1/events/{eventId}/queue/challenge': { code: 'FORBIDDEN', eventId: () => verifiedOnlyEventId },
};

const operations = () =>
  Object.entries(spec.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ path, method, op: item[method]!, key: `${method.toUpperCase()} ${path}` })),
  );

/** The path with its parameters filled: the fixture event, and well-formed ids that name nothing. */
function concrete(path: string, eventId = roomEventId): string {
  const samples: Record<string, string> = {
    eventId,
    holdId: `hold_${'0'.repeat(32)}`,
    orderId: `ord_${'0'.repeat(32)}`,
  };
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(samples[name] ?? 'x'));
}

interface Answer {
  status: number;
  code?: string;
  retryAfter: string | null;
}

/** Sends one request; reads the body only of an error (a 200 may be an endless event stream). */
async function send(method: string, path: string, opts: { token?: string; body?: string; eventId?: string }): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const ctl = new AbortController();
  const res = await fetch(stack.api.url + concrete(path, opts.eventId), {
    method: method.toUpperCase(),
    headers,
    body: opts.body,
    signal: ctl.signal,
  });
  let code: string | undefined;
  if (res.status >= 400) {
    const body = (await res.json()) as { error?: { code?: unknown } };
    code = typeof body.error?.code === 'string' ? body.error.code : undefined;
  } else {
    ctl.abort();
  }
  return { status: res.status, code, retryAfter: res.headers.get('retry-after') };
}

/** Every answer is documented for its operation and, if an error, in the error shape with a code of that status. */
function expectDocumented(key: string, op: Operation, a: Answer, what: string): void {
  expect({ [`${key} (${what})`]: String(a.status) in op.responses }).toEqual({ [`${key} (${what})`]: true });
  if (a.status >= 400) {
    expect(a.code).toBeDefined();
    expect(ERROR_STATUS[a.code as keyof typeof ERROR_STATUS]).toBe(a.status);
  }
}

const isAdminOnly = (op: Operation) => !!op.security?.length && op.security.every((s) => Object.keys(s).length === 1 && 'admin' in s);

beforeAll(async () => {
  spec = (await (await fetch(`${stack.api.url}/openapi.json`)).json()) as Document;
  buyerToken = (await newBuyer(stack.api.url, 'Status Audit Buyer')).token;
  roomEventId = await createEvent(stack.api.url, config.ADMIN_TOKEN, {
    name: 'Status audit',
    waitingRoom: { enabled: true, powDifficulty: 4 },
  });
  limitsEventId = await createEvent(stack.api.url, config.ADMIN_TOKEN, {
    name: 'Status audit, rate limits',
    waitingRoom: { enabled: true, rateWindowSeconds: 60, joinLimitPerBuyer: 1, statusLimitPerBuyer: 1 },
  });
  openSaleEventId = await createEvent(stack.api.url, config.ADMIN_TOKEN, {
    name: 'Status audit, hold attempts',
    waitingRoom: { enabled: false },
  });
  verifiedOnlyEventId = await createEvent(stack.api.url, config.ADMIN_TOKEN, {
    name: 'Status audit, verified people only',
    waitingRoom: { enabled: true, requireVerifiedIdentity: true },
  });
});

test('the description lists operations to audit', () => {
  expect(operations().length).toBeGreaterThan(25);
});

test('every route of the API (under /v1) and every operations endpoint is described', () => {
  const described = (method: string, path: string) => !!spec.paths[path.replace(/:([^/]+)/g, '{$1}')]?.[method.toLowerCase()];
  const routes = createApp(stack.api.deps).routes.filter((r) => r.method !== 'ALL' && !r.path.includes('*'));
  const api = routes.filter((r) => r.path.startsWith('/v1/') || NEVER_SHED.has(r.path));
  expect(api.length).toBeGreaterThan(25);
  expect(api.filter((r) => !described(r.method, r.path)).map((r) => `${r.method} ${r.path}`)).toEqual([]);
});

test('401 is documented exactly where security is declared, and no token or a bad token gets it', async () => {
  for (const { path, method, op, key } of operations()) {
    const secured = !!op.security?.length;
    expect({ [key]: '401' in op.responses }).toEqual({ [key]: secured });
    const body = TAKES_BODY.has(method) ? '{}' : undefined;
    const anonymous = await send(method, path, { body });
    expectDocumented(key, op, anonymous, 'no token');
    const forged = await send(method, path, { body, token: 'not-a-token-of-this-api' });
    expectDocumented(key, op, forged, 'a forged token');
    if (secured) {
      expect({ [key]: [anonymous.code, forged.code] }).toEqual({ [key]: ['UNAUTHENTICATED', 'UNAUTHENTICATED'] });
    }
  }
});

test("403 is documented on administrator-only operations and a buyer's provoked 403s; a buyer's token gets it", async () => {
  for (const { path, method, op, key } of operations()) {
    const adminOnly = isAdminOnly(op);
    const recipe = FORBIDDEN_RECIPES[key];
    expect({ [key]: '403' in op.responses }).toEqual({ [key]: adminOnly || !!recipe });
    if (!op.security?.some((s) => 'buyer' in s) && !adminOnly) continue;
    // A buyer's token with an empty body: the administrator's operations refuse it, the buyer's answer as documented.
    const asBuyer = await send(method, path, { token: buyerToken, body: TAKES_BODY.has(method) ? '{}' : undefined });
    expectDocumented(key, op, asBuyer, "a buyer's token");
    if (adminOnly) expect({ [key]: asBuyer.code }).toEqual({ [key]: 'FORBIDDEN' });
    if (recipe) {
      const forbidden = await send(method, path, {
        token: buyerToken,
        ...(recipe.body !== undefined && { body: JSON.stringify(recipe.body) }),
        ...(recipe.eventId && { eventId: recipe.eventId() }),
      });
      expectDocumented(key, op, forbidden, 'the recipe for 403');
      expect({ [key]: forbidden.code }).toEqual({ [key]: recipe.code });
    }
  }
});

test('413 is documented on every operation that takes a body, and one byte over the limit gets it', async () => {
  const oversize = JSON.stringify({ pad: 'x'.repeat(config.BODY_LIMIT_BYTES) });
  expect(Buffer.byteLength(oversize)).toBeGreaterThan(config.BODY_LIMIT_BYTES);
  for (const { path, method, op, key } of operations()) {
    expect({ [key]: '413' in op.responses }).toEqual({ [key]: TAKES_BODY.has(method) });
    if (!TAKES_BODY.has(method)) continue;
    const token = isAdminOnly(op) ? config.ADMIN_TOKEN : op.security?.length ? buyerToken : undefined;
    const a = await send(method, path, { token, body: oversize });
    expectDocumented(key, op, a, 'an oversize body');
    expect({ [key]: a.code }).toEqual({ [key]: 'PAYLOAD_TOO_LARGE' });
  }
});

test('429 on the rate-limited operations, 503 (load shedding) wherever shedding applies, each with Retry-After', () => {
  const isErrorShape = (r: ResponseObject | undefined) => r?.content?.['application/json']?.schema?.$ref === '#/components/schemas/Error';
  for (const { path, op, key } of operations()) {
    expect({ [key]: '429' in op.responses }).toEqual({ [key]: key in RATE_LIMIT_RECIPES });
    // Shed paths document the shedding answer; the never-shed ones may have a 503 of their own (readiness), never that one.
    expect({ [key]: isErrorShape(op.responses['503']) }).toEqual({ [key]: !NEVER_SHED.has(path) });
    for (const status of ['429', '503'].filter((s) => s in op.responses)) {
      expect({ [`${key} ${status}`]: Object.keys(op.responses[status]!.headers ?? {}) }).toEqual({ [`${key} ${status}`]: ['Retry-After'] });
    }
  }
});

test('each rate-limited operation answers 429 RATE_LIMITED with Retry-After once a buyer reaches its limit', async () => {
  const limited = operations().filter(({ key }) => key in RATE_LIMIT_RECIPES);
  expect(limited.map(({ key }) => key).sort()).toEqual(Object.keys(RATE_LIMIT_RECIPES).sort());
  for (const { path, method, op, key } of limited) {
    const { body, within, openSale } = RATE_LIMIT_RECIPES[key]!;
    // A buyer of its own: the limits count per buyer.
    const token = (await newBuyer(stack.api.url, 'Rate-limited buyer')).token;
    let last: Answer | undefined;
    for (let i = 0; i < within; i++) {
      last = await send(method, path, {
        token,
        body: body === undefined ? undefined : JSON.stringify(body),
        eventId: openSale ? openSaleEventId : limitsEventId,
      });
      expectDocumented(key, op, last, `request ${i + 1} of ${within}`);
      if (last.status === 429) break;
    }
    expect({ [key]: [last?.code, Number(last?.retryAfter) > 0] }).toEqual({ [key]: ['RATE_LIMITED', true] });
  }
});

// ------------------------------------------------------------------------------------------------ links --

function resolve(schema: Schema | undefined): Schema | undefined {
  if (!schema?.$ref) return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  return resolve(spec.components?.schemas?.[name]);
}

/** Whether a JSON pointer reads a field the schema describes (through $ref, arrays and unions). */
function hasPointer(schema: Schema | undefined, pointer: string[]): boolean {
  const s = resolve(schema);
  if (!s) return false;
  if (pointer.length === 0) return true;
  const alternatives = [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])];
  if (alternatives.length) return alternatives.some((a) => hasPointer(a, pointer));
  const [head, ...rest] = pointer;
  if (/^\d+$/.test(head!) && s.items) return hasPointer(s.items, rest);
  return !!s.properties && head! in s.properties && hasPointer(s.properties[head!], rest);
}

function targetOf(link: Link): { path: string; method: string; op: Operation } | undefined {
  const m = /^#\/paths\/([^/]+)\/([a-z]+)$/.exec(link.operationRef ?? '');
  if (!m) return undefined;
  const path = m[1]!.replaceAll('~1', '/').replaceAll('~0', '~');
  const op = spec.paths[path]?.[m[2]!];
  return op && { path, method: m[2]!, op };
}

/** Checks one runtime expression (or a literal) against the source operation and its answer. */
function expressionProblem(expr: unknown, source: Operation, answer: ResponseObject): string | null {
  if (typeof expr !== 'string' || !expr.startsWith('$')) return null;
  const body = /^\$response\.body#\/(.*)$/.exec(expr);
  if (body) {
    const schema = answer.content?.['application/json']?.schema;
    return hasPointer(schema, body[1]!.split('/')) ? null : `${expr} is not in the answer`;
  }
  const param = /^\$request\.(path|query|header)\.(.+)$/.exec(expr);
  if (param) {
    return source.parameters?.some((p) => p.in === param[1] && p.name === param[2]) ? null : `${expr} is not a parameter of the source`;
  }
  return `${expr} is not an expression this description uses`;
}

test('every link resolves to an operation, fills parameters it has, from fields the answer has', () => {
  const problems: string[] = [];
  let links = 0;
  for (const { op, key } of operations()) {
    for (const [status, answer] of Object.entries(op.responses)) {
      for (const [name, link] of Object.entries(answer.links ?? {})) {
        links++;
        const where = `${key} ${status} ${name}`;
        const target = targetOf(link);
        if (!target) {
          problems.push(`${where}: ${link.operationRef} names no operation`);
          continue;
        }
        for (const [param, expr] of Object.entries(link.parameters ?? {})) {
          const [loc, pname] = param.includes('.') ? (param.split('.', 2) as [string, string]) : [undefined, param];
          if (!target.op.parameters?.some((p) => p.name === pname && (!loc || p.in === loc))) {
            problems.push(`${where}: ${target.method} ${target.path} has no parameter ${param}`);
          }
          const problem = expressionProblem(expr, op, answer);
          if (problem) problems.push(`${where}: ${problem}`);
        }
        if (link.requestBody !== undefined) {
          const bodySchema = target.op.requestBody?.content['application/json']?.schema;
          for (const [field, expr] of Object.entries(link.requestBody as Record<string, unknown>)) {
            if (!hasPointer(bodySchema, [field])) problems.push(`${where}: the target's body has no ${field}`);
            const problem = expressionProblem(expr, op, answer);
            if (problem) problems.push(`${where}: ${problem}`);
          }
        }
      }
    }
  }
  expect(problems).toEqual([]);
  expect(links).toBeGreaterThan(50);
});

test('answers to reads link only to reads: a listed id never leads a client to change a sale it did not create', () => {
  // The one change a read leads to: the queue status answers 200 only to a buyer in the queue, with the admission token.
  const allowed = new Set(['GET /v1/events/{eventId}/queue/me -> POST /v1/events/{eventId}/hold']);
  const changes: string[] = [];
  for (const { method, op, key } of operations()) {
    if (method !== 'get') continue;
    for (const answer of Object.values(op.responses)) {
      for (const link of Object.values(answer.links ?? {})) {
        const t = targetOf(link);
        const step = `${key} -> ${t?.method.toUpperCase()} ${t?.path}`;
        if (t && t.method !== 'get' && !allowed.has(step)) changes.push(step);
      }
    }
  }
  expect(changes).toEqual([]);
});

test('the journey is linked: create event → open → join → status → hold → purchase → order → refund', () => {
  const linked = (from: string, status: string, to: string) =>
    Object.values(spec.paths[from.split(' ')[1]!]?.[from.split(' ')[0]!.toLowerCase()]?.responses[status]?.links ?? {}).some((l) => {
      const t = targetOf(l);
      return t && `${t.method.toUpperCase()} ${t.path}` === to;
    });
  const steps: [string, string, string][] = [
    ['POST /v1/admin/events', '201', 'POST /v1/admin/events/{eventId}/open'],
    ['POST /v1/admin/events/{eventId}/open', '200', 'POST /v1/events/{eventId}/queue'],
    ['POST /v1/events/{eventId}/queue', '201', 'GET /v1/events/{eventId}/queue/me'],
    ['GET /v1/events/{eventId}/queue/me', '200', 'POST /v1/events/{eventId}/hold'],
    ['POST /v1/events/{eventId}/hold', '201', 'POST /v1/events/{eventId}/purchase'],
    ['POST /v1/events/{eventId}/hold', '201', 'DELETE /v1/events/{eventId}/hold/{holdId}'],
    ['POST /v1/events/{eventId}/purchase', '200', 'GET /v1/orders/{orderId}'],
    ['POST /v1/events/{eventId}/purchase', '200', 'POST /v1/admin/orders/{orderId}/refund'],
    ['POST /v1/events/{eventId}/purchase', '200', 'POST /v1/admin/orders/{orderId}/resend-confirmation'],
    ['GET /v1/events/{eventId}', '200', 'GET /v1/events/{eventId}/seats/stream'],
  ];
  expect(steps.filter(([from, status, to]) => !linked(from, status, to))).toEqual([]);
});
