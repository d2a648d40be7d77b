import { timingSafeEqual } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import { DomainError } from '../../domain/errors';
import type { AppEnv } from '../deps';

/** The token of an `Authorization: Bearer` header, or null when there is none or it is malformed. */
export function bearer(header: string | undefined): string | null {
  const m = /^Bearer ([A-Za-z0-9._~+/=-]{10,4096})$/.exec(header ?? '');
  return m ? m[1]! : null;
}

export function isAdminToken(token: string | null, adminToken: string): boolean {
  if (!token) return false;
  const a = Buffer.from(token);
  const b = Buffer.from(adminToken);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Requires a buyer token; sets `buyer`. */
export const requireBuyer = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearer(c.req.header('authorization'));
  if (!token) throw new DomainError('UNAUTHENTICATED', 'send Authorization: Bearer <buyer token>');
  const buyer = await c.get('services').buyerTokens.verify(token);
  if (!buyer) throw new DomainError('UNAUTHENTICATED', 'the buyer token is invalid or expired');
  c.set('buyer', buyer);
  c.set('isAdmin', false);
  await next();
});

/**
 * Requires the administrator token. A buyer's valid token is the wrong role
 * (403 FORBIDDEN); anything else is no credential at all (401 UNAUTHENTICATED).
 */
export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearer(c.req.header('authorization'));
  if (!token) throw new DomainError('UNAUTHENTICATED', 'send Authorization: Bearer <admin token>');
  if (!isAdminToken(token, c.var.services.config.ADMIN_TOKEN)) {
    if (await c.var.services.buyerTokens.verify(token)) throw new DomainError('FORBIDDEN', 'administrator token required');
    throw new DomainError('UNAUTHENTICATED', 'the token is neither the administrator token nor a valid buyer token');
  }
  c.set('isAdmin', true);
  await next();
});

/** Accepts either the administrator or a buyer. */
export const requireBuyerOrAdmin = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearer(c.req.header('authorization'));
  if (isAdminToken(token, c.var.services.config.ADMIN_TOKEN)) {
    c.set('isAdmin', true);
    await next();
    return;
  }
  await requireBuyer(c, next);
});
