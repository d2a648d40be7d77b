/**
 * gzip or br for JSON and text answers whose client accepts it. Event streams
 * are never touched (a compressor would hold frames back), nor are answers that
 * a route already encoded, nor small ones, where the headers cost more than
 * the saving.
 *
 * Deciding must not cost a read of the body: on Node, reading a finished
 * answer's body turns it into a web stream, which costs more than a small
 * request itself. So the size comes from Content-Length, and JSON answers made
 * with `c.json()` while this middleware runs get one; only an answer at least
 * the threshold in size (or of unknown size) is read.
 */
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { addVary, compressSync, pickEncoding } from '../http-cache';

const COMPRESSIBLE = /^\s*(application\/(json|javascript|problem\+json)|text\/(html|css|javascript|plain))\b/i;
const gzipAsync = promisify(gzip);
const brAsync = promisify(brotliCompress);

/** `c.json()` with a Content-Length, so the size is known without reading the answer back. */
function sizedJson(c: Context): Context['json'] {
  return ((object: unknown, arg?: number | ResponseInit, headers?: Record<string, string | string[]>) => {
    const text = JSON.stringify(object);
    return c.body(text, arg as never, {
      'Content-Type': 'application/json',
      ...headers,
      'Content-Length': String(Buffer.byteLength(text)),
    });
  }) as unknown as Context['json'];
}

export function compressAnswers(opts: { threshold?: number; asyncAbove?: number } = {}) {
  const threshold = opts.threshold ?? 1024;
  const asyncAbove = opts.asyncAbove ?? 64 * 1024;
  return createMiddleware(async (c, next) => {
    const coding = pickEncoding(c.req.header('accept-encoding'));
    if (coding) c.json = sizedJson(c);
    await next();
    const res = c.res;
    if (!COMPRESSIBLE.test(res.headers.get('Content-Type') ?? '')) return;
    addVary(res.headers, 'Accept-Encoding');
    if (!coding || c.req.method === 'HEAD' || res.status === 204 || res.status === 304) return;
    if (res.headers.has('Content-Encoding') || /no-transform/i.test(res.headers.get('Cache-Control') ?? '')) return;
    const declared = Number(res.headers.get('Content-Length') ?? NaN);
    if (declared < threshold || !res.body) return;
    const raw = new Uint8Array(await res.arrayBuffer());
    let out: Uint8Array = raw;
    if (raw.length >= threshold) {
      // Large answers are compressed on the thread pool so the event loop keeps serving.
      out =
        raw.length < asyncAbove
          ? compressSync(coding, raw)
          : coding === 'gzip'
            ? await gzipAsync(raw)
            : await brAsync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } });
    }
    const headers = new Headers(res.headers);
    headers.delete('Content-Length');
    if (out !== raw) headers.set('Content-Encoding', coding);
    c.res = undefined;
    c.res = new Response(out as Uint8Array<ArrayBuffer>, { status: res.status, headers });
  });
}
