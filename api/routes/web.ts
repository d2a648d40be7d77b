/**
 * The buyer's page and the API reference, served by the API itself so one
 * process (or replica set) is the whole product. Nothing loads from a CDN:
 * the page is TypeScript under web/page bundled once by esbuild, and the
 * reference is Swagger UI from node_modules over this API's /openapi.json.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Hono, type Context } from 'hono';
import { RESOURCE_ID } from '../../domain/ids';
import { listEvents } from '../../db/queries/events';
import type { Config } from '../../platform/config';
import type { AppEnv } from '../deps';

const WEB_DIR = path.resolve(__dirname, '../../web');
const SWAGGER_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));

const SWAGGER_FILES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

/** Scripts and styles only from this origin; data: images for the canvas export. */
const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

interface Asset {
  body: string | Uint8Array;
  type: string;
  etag: string;
}

const etagOf = (body: string | Uint8Array) => `"${createHash('sha1').update(body).digest('base64url').slice(0, 20)}"`;

function memo(load: () => Promise<Asset>): () => Promise<Asset> {
  let p: Promise<Asset> | null = null;
  return () => {
    p ??= load().catch((err: unknown) => {
      p = null;
      throw err;
    });
    return p;
  };
}

/** Bundles browser TypeScript into one script, once per process. */
const bundle = (entry: string) =>
  memo(async () => {
    const esbuild = await import('esbuild');
    const out = await esbuild.build({
      entryPoints: [path.join(WEB_DIR, entry)],
      bundle: true,
      write: false,
      format: 'iife',
      target: ['es2020'],
      minify: true,
      legalComments: 'none',
      logLevel: 'silent',
    });
    const body = out.outputFiles[0]!.text;
    return { body, type: 'text/javascript; charset=utf-8', etag: etagOf(body) };
  });

const pageScript = bundle('page/main.ts');
/** The organiser's console: a second entry point, so buyers never download it. */
const adminScript = bundle('admin/main.ts');

const fileAsset = (file: string, type: string) =>
  memo(async () => {
    const body = await readFile(file);
    return { body: new Uint8Array(body), type, etag: etagOf(body) };
  });

const pageStyle = fileAsset(path.join(WEB_DIR, 'app.css'), 'text/css; charset=utf-8');
const adminStyle = fileAsset(path.join(WEB_DIR, 'admin/admin.css'), 'text/css; charset=utf-8');
const docsScript = fileAsset(path.join(WEB_DIR, 'docs.js'), 'text/javascript; charset=utf-8');
const swaggerAssets = Object.fromEntries(
  Object.entries(SWAGGER_FILES).map(([name, type]) => [name, fileAsset(path.join(SWAGGER_DIR, name), type)]),
);

function serveAsset(c: Context, asset: Asset, maxAge = 300) {
  c.header('ETag', asset.etag);
  c.header('Cache-Control', `public, max-age=${maxAge}`);
  if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304);
  c.header('Content-Type', asset.type);
  return c.body(typeof asset.body === 'string' ? asset.body : (asset.body as Uint8Array<ArrayBuffer>), 200);
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

/** What the page needs to know about this deployment, embedded as JSON (never secrets). */
export interface PageConfig {
  eventId: string | null;
  mode: 'development' | 'production';
  /** Development only: support links into the Temporal UI are never handed to buyers in production. */
  temporalUiUrl: string;
  temporalNamespace: string;
  /** Production only: Stripe.js and the Payment Element take card details; the key is public by design. */
  stripePublishableKey?: string;
  /** ISO currency of every charge, lower case (the Payment Element shows amounts in it). */
  currency: string;
}

const STRIPE_JS = 'https://js.stripe.com/v3/';

/** Production pages load Stripe.js and let its frames talk to Stripe; development pages load nothing from elsewhere. */
function cspFor(mode: PageConfig['mode']): string {
  if (mode !== 'production') return PAGE_CSP;
  return PAGE_CSP.replace("script-src 'self'", "script-src 'self' https://js.stripe.com")
    .replace("connect-src 'self'", "connect-src 'self' https://api.stripe.com")
    .concat('; frame-src https://js.stripe.com https://hooks.stripe.com');
}

function pageHtml(title: string, cfg: PageConfig, extra = ''): string {
  const json = JSON.stringify(cfg).replace(/</g, '\\u003c');
  const stripe = cfg.mode === 'production' && cfg.stripePublishableKey ? `\n<script src="${STRIPE_JS}" defer></script>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/web/app.css">
<script id="onsale-config" type="application/json">${json}</script>${stripe}
<script src="/web/app.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="/">onsale</a>
  <nav aria-label="Site"><a href="/docs">API reference</a></nav>
</header>
<main id="main" tabindex="-1"><p class="loading">Loading…</p></main>${extra}
<div id="announcer" class="visually-hidden" aria-live="polite" aria-atomic="true"></div>
<div id="alerter" class="visually-hidden" aria-live="assertive" aria-atomic="true"></div>
<noscript><p class="panel">This page needs JavaScript for the live seat map.</p></noscript>
</body>
</html>`;
}

/** The landing page's list of events on sale, rendered on the server so it needs no script. */
function onSaleList(events: { id: string; name: string; venue: string | null; startsAt: Date | null }[]): string {
  const items = events
    .map((e) => {
      const meta = [e.venue, e.startsAt?.toUTCString().replace(/:00 GMT$/, ' UTC')].filter(Boolean).join(' · ');
      return `<li><a href="/events/${encodeURIComponent(e.id)}">${escapeHtml(e.name)}</a>${meta ? ` <span class="muted">${escapeHtml(meta)}</span>` : ''}</li>`;
    })
    .join('');
  return `
<section class="panel on-sale-list" aria-labelledby="on-sale-title" data-testid="on-sale">
  <h2 id="on-sale-title">On sale now</h2>
  ${items ? `<ul>${items}</ul>` : '<p class="muted">Nothing is on sale right now.</p>'}
</section>`;
}

const ADMIN_HTML = (cfg: Omit<PageConfig, 'eventId'>) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>onsale — organiser console</title>
<link rel="stylesheet" href="/web/app.css">
<link rel="stylesheet" href="/web/admin.css">
<script id="onsale-config" type="application/json">${JSON.stringify({ mode: cfg.mode, temporalUiUrl: cfg.temporalUiUrl, temporalNamespace: cfg.temporalNamespace }).replace(/</g, '\\u003c')}</script>
<script src="/web/admin.js" defer></script>
</head>
<body>
<header class="top">
  <a class="brand" href="/admin">onsale console</a>
  <nav aria-label="Site"><a href="/">Buyer site</a> · <a href="/docs">API reference</a></nav>
</header>
<main id="main" tabindex="-1"><p class="loading">Loading…</p></main>
<noscript><p class="panel">The console needs JavaScript.</p></noscript>
</body>
</html>`;

const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>onsale API reference</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"><p style="font-family:sans-serif;padding:1rem">Loading the API reference from <a href="/openapi.json">/openapi.json</a>…</p></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script src="/docs/docs.js"></script>
</body>
</html>`;

export function webRoutes(config: Config) {
  const production = config.ONSALE_MODE === 'production';
  const base = {
    mode: config.ONSALE_MODE,
    temporalUiUrl: production ? '' : config.TEMPORAL_UI_URL.replace(/\/+$/, ''),
    temporalNamespace: production ? '' : config.TEMPORAL_NAMESPACE,
    ...(production && config.STRIPE_PUBLISHABLE_KEY && { stripePublishableKey: config.STRIPE_PUBLISHABLE_KEY }),
    currency: config.PAYMENT_CURRENCY,
  };
  const html = (c: Context, body: string, status: 200 | 404 = 200, csp = cspFor(config.ONSALE_MODE)) => {
    c.header('Content-Security-Policy', csp);
    c.header('Cache-Control', 'no-cache');
    return c.html(body, status);
  };
  return (
    new Hono<AppEnv>()
      .get('/', async (c) => {
        const page = await listEvents(c.var.services.pool, { status: 'on_sale', limit: 50 }).catch(() => null);
        const list = page ? onSaleList(page.events) : '';
        return html(c, pageHtml('onsale — tickets', { ...base, eventId: null }, list));
      })
      .get('/events/:eventId', (c) => {
        const eventId = c.req.param('eventId');
        if (!RESOURCE_ID.test(eventId)) return html(c, pageHtml('Event not found — onsale', { ...base, eventId: null }), 404);
        return html(c, pageHtml('Tickets — onsale', { ...base, eventId }));
      })
      // The console is for staff: the Temporal UI links are its point, in every mode.
      .get('/admin', (c) =>
        html(
          c,
          ADMIN_HTML({ ...base, temporalUiUrl: config.TEMPORAL_UI_URL.replace(/\/+$/, ''), temporalNamespace: config.TEMPORAL_NAMESPACE }),
          200,
          PAGE_CSP,
        ),
      )
      .get('/web/admin.js', async (c) => serveAsset(c, await adminScript(), 60))
      .get('/web/admin.css', async (c) => serveAsset(c, await adminStyle(), 60))
      .get('/web/app.js', async (c) => serveAsset(c, await pageScript(), 60))
      .get('/web/app.css', async (c) => serveAsset(c, await pageStyle(), 60))
      .get('/docs', (c) => {
        // Swagger UI styles itself inline.
        c.header('Content-Security-Policy', PAGE_CSP);
        return c.html(DOCS_HTML);
      })
      .get('/docs/docs.js', async (c) => serveAsset(c, await docsScript()))
      .get('/docs/assets/:file', async (c) => {
        const load = swaggerAssets[c.req.param('file')];
        if (!load) return c.json({ error: { code: 'NOT_FOUND', message: 'no such asset', details: {} } }, 404);
        return serveAsset(c, await load(), 86400);
      })
  );
}
