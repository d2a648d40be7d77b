/** The console's calls to the admin API: the token from sessionStorage, errors as ApiError with the contract's code. */
const TOKEN_KEY = 'onsale:admin-token';
const ACTOR_KEY = 'onsale:admin-actor';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  },
  get actor() {
    return sessionStorage.getItem(ACTOR_KEY) ?? '';
  },
  signIn(token: string, actor: string) {
    sessionStorage.setItem(TOKEN_KEY, token);
    if (actor) sessionStorage.setItem(ACTOR_KEY, actor);
    else sessionStorage.removeItem(ACTOR_KEY);
  },
  signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(ACTOR_KEY);
  },
};

export async function api<T = any>(
  method: string,
  path: string,
  body?: unknown,
  token = session.token,
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (session.actor) headers['x-admin-actor'] = session.actor;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const parsed = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const err = parsed?.error ?? {};
    throw new ApiError(res.status, String(err.code ?? 'HTTP_' + res.status), String(err.message ?? res.statusText));
  }
  return { status: res.status, body: parsed as T };
}
