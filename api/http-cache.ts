/**
 * Conditional and compressed answers. A cacheable answer is prepared once —
 * its JSON, gzip and br bytes and its validator — and served to every caller
 * until it changes, so a crowd polling it costs a header comparison each.
 */
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Context } from 'hono';

export type ContentCoding = 'br' | 'gzip';

/**
 * Clients send few distinct Accept-Encoding values (one per browser and
 * version), so each is parsed once; the map is emptied if it ever grows large.
 */
const pickedEncodings = new Map<string, ContentCoding | null>();

/** The best coding the client accepts (br, then gzip), or null for identity. Honours q=0. */
export function pickEncoding(acceptEncoding: string | undefined): ContentCoding | null {
  if (!acceptEncoding) return null;
  let coding = pickedEncodings.get(acceptEncoding);
  if (coding === undefined) {
    coding = parseAcceptEncoding(acceptEncoding);
    if (pickedEncodings.size >= 256) pickedEncodings.clear();
    pickedEncodings.set(acceptEncoding, coding);
  }
  return coding;
}

function parseAcceptEncoding(acceptEncoding: string): ContentCoding | null {
  let br = -1;
  let gzip = -1;
  let any = -1;
  for (const part of acceptEncoding.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    let q = 1;
    for (const p of params) {
      const m = /^\s*q=([0-9.]+)\s*$/.exec(p);
      if (m) q = Number(m[1]);
    }
    if (name === 'br') br = q;
    else if (name === 'gzip' || name === 'x-gzip') gzip = q;
    else if (name === '*') any = q;
  }
  if (br < 0) br = any;
  if (gzip < 0) gzip = any;
  if (br > 0 && br >= gzip) return 'br';
  if (gzip > 0) return 'gzip';
  return null;
}

/** Weak comparison (RFC 9110 §13.1.2): does If-None-Match name this validator? */
export function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch === etag) return true;
  const bare = etag.replace(/^W\//, '');
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^W\//, '') === bare;
  });
}

/** Adds a token to Vary unless it is there already. */
export function addVary(headers: Headers, token: string): void {
  const current = headers.get('Vary');
  if (!current) headers.set('Vary', token);
  else if (
    current !== '*' &&
    !current
      .toLowerCase()
      .split(/\s*,\s*/)
      .includes(token.toLowerCase())
  ) {
    headers.set('Vary', `${current}, ${token}`);
  }
}

export function compressSync(coding: ContentCoding, body: Uint8Array, level: 'fast' | 'best' = 'fast'): Buffer {
  if (coding === 'gzip') return gzipSync(body, { level: level === 'best' ? 9 : 6 });
  return brotliCompressSync(body, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: level === 'best' ? 11 : 4,
      [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
    },
  });
}

export interface PreparedAnswer {
  etag: string;
  cacheControl: string;
  identity: Buffer;
  gzip: Buffer;
  br: Buffer;
  /** The answer's headers for 304 and for each coding, built once: a crowd polling it shares them. */
  headers: Record<'notModified' | ContentCoding | 'identity', Readonly<Record<string, string>>>;
}

/** Serialises and compresses a JSON answer once (best compression: it is served many times). */
export function prepareJson(body: unknown, etag: string, cacheControl: string): PreparedAnswer {
  const identity = Buffer.from(JSON.stringify(body));
  const gzip = compressSync('gzip', identity, 'best');
  const br = compressSync('br', identity, 'best');
  const notModified = { ETag: etag, 'Cache-Control': cacheControl, Vary: 'Accept-Encoding' };
  const sent = (bytes: Buffer, coding?: ContentCoding) => ({
    ...notModified,
    'Content-Type': 'application/json',
    ...(coding && { 'Content-Encoding': coding }),
    'Content-Length': String(bytes.length),
  });
  return {
    etag,
    cacheControl,
    identity,
    gzip,
    br,
    headers: { notModified, identity: sent(identity), gzip: sent(gzip, 'gzip'), br: sent(br, 'br') },
  };
}

/** 304 when the client holds this version, else the bytes in the coding it accepts. */
export function sendPrepared(c: Context, a: PreparedAnswer): Response {
  if (matchesEtag(c.req.header('if-none-match'), a.etag)) return c.body(null, 304, a.headers.notModified);
  const coding = pickEncoding(c.req.header('accept-encoding')) ?? 'identity';
  return c.body(a[coding] as unknown as ArrayBuffer, 200, a.headers[coding]);
}
