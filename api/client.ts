/**
 * A typed client for TypeScript callers, derived from the app's routes
 * (Hono RPC): paths, parameters, bodies and JSON replies are checked at
 * compile time against the same zod schemas that validate requests.
 *
 *   const api = createClient('https://tickets.example', { token });
 *   const res = await api.v1.events[':eventId'].hold.$post({ param: { eventId }, json: { quantity: 2 } });
 *   if (res.status === 201) console.log((await res.json()).holdId);
 */
import type { Hono } from 'hono';
import { hc } from 'hono/client';
import type { AppType } from './app';

/**
 * The app's routes with only literal paths: a route whose path type widens to
 * `string` would otherwise turn every property of the client into `string`
 * and hide all the others.
 */
type LiteralRoutes<S> = { [K in keyof S as string extends K ? never : K]: S[K] };
export type ClientApp = AppType extends Hono<infer E, infer S, infer B> ? Hono<E, LiteralRoutes<S>, B> : never;
export type OnsaleClient = ReturnType<typeof hc<ClientApp>>;

export interface ClientOptions {
  /** A buyer token or the administrator token, sent as `Authorization: Bearer`. */
  token?: string | (() => string | undefined);
  /** Extra headers on every request, e.g. `X-Admission-Token` (a function is read per request). */
  headers?: Record<string, string> | (() => Record<string, string>);
  fetch?: typeof fetch;
}

export function createClient(baseUrl: string, opts: ClientOptions = {}): OnsaleClient {
  return hc<ClientApp>(baseUrl, {
    fetch: opts.fetch,
    headers: () => {
      const extra = typeof opts.headers === 'function' ? opts.headers() : (opts.headers ?? {});
      const token = typeof opts.token === 'function' ? opts.token() : opts.token;
      return token ? { ...extra, authorization: `Bearer ${token}` } : extra;
    },
  });
}

/** The error contract every non-2xx reply follows. */
export interface ApiErrorBody {
  error: { code: string; message: string; details: Record<string, unknown> };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Reads a reply: the JSON body on success, an ApiError (with the contract's code) otherwise. */
export async function unwrap<T>(res: { ok: boolean; status: number; json(): Promise<T> } | Response): Promise<T> {
  if (res.ok) return (await res.json()) as T;
  let body: Partial<ApiErrorBody> | null = null;
  try {
    body = (await res.json()) as Partial<ApiErrorBody>;
  } catch {
    // not JSON
  }
  const e = body?.error;
  throw new ApiError(res.status, e?.code ?? 'INTERNAL', e?.message ?? `HTTP ${res.status}`, e?.details ?? {});
}
