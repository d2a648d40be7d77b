/**
 * 405 for a method a known path does not support, with the `Allow` header
 * listing those it does (RFC 9110 §15.5.6), instead of a 404 that tells a
 * client the path itself does not exist.
 */
interface RouteEntry {
  method: string;
  path: string;
}

/** Compiles Hono route paths (`/v1/events/:eventId/hold`) to matchers, once per app. */
export function allowedMethodsOf(routes: readonly RouteEntry[]): (path: string) => string[] {
  const byPattern = new Map<string, { re: RegExp; methods: Set<string> }>();
  for (const r of routes) {
    // Middleware entries (use()) are registered as ALL; they say nothing about what a path answers.
    if (r.method === 'ALL' || r.path.includes('*')) continue;
    let entry = byPattern.get(r.path);
    if (!entry) {
      const source = r.path
        .split('/')
        .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      entry = { re: new RegExp(`^${source}/?$`), methods: new Set() };
      byPattern.set(r.path, entry);
    }
    entry.methods.add(r.method);
  }
  const patterns = [...byPattern.values()];
  return (path) => {
    const allowed = new Set<string>();
    for (const p of patterns) if (p.re.test(path)) for (const m of p.methods) allowed.add(m);
    if (allowed.has('GET')) allowed.add('HEAD');
    if (allowed.size) allowed.add('OPTIONS');
    return [...allowed].sort();
  };
}
