/**
 * Every administrator request that changes something is recorded in
 * admin_actions: who (a hash prefix of the admin token, never the token, and
 * the name sent in X-Admin-Actor), when, what (the action, the event or order,
 * the outcome and what the handler chose to add), and the request id.
 */
import { createHash } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import { recordAdminAction } from '../../db/queries/admin-actions';
import type { AppEnv } from '../deps';

const ACTOR_NAME = /^[\p{L}\p{N} ._@+-]{1,100}$/u;

/** The administrator as recorded: `admin:<token hash prefix>`, plus ` (<name>)` when X-Admin-Actor names a person. */
export function adminActor(authorization: string | undefined, actorHeader: string | undefined): string {
  const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1] ?? '';
  const id = `admin:${createHash('sha256').update(token).digest('hex').slice(0, 12)}`;
  const name = actorHeader?.trim();
  return name && ACTOR_NAME.test(name) ? `${id} (${name})` : id;
}

/** "POST /v1/admin/events/:eventId/open" → "event.open"; "POST /v1/admin/events" → "event.create". */
export function actionName(method: string, path: string): string {
  const parts = path
    .replace(/^\/v1\/admin\/?/, '')
    .split('/')
    .filter((p) => p && !/^(evt|ord)_/.test(p));
  const [resource = 'admin', ...rest] = parts;
  const noun = resource.replace(/s$/, '');
  if (rest.length) return `${noun}.${rest.join('.')}`;
  return `${noun}.${method === 'POST' ? 'create' : method.toLowerCase()}`;
}

export const auditAdminActions = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  const method = c.req.method;
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS' || !c.var.isAdmin) return;
  const { pool, logger } = c.var.services;
  const path = c.req.path;
  const action = {
    actor: adminActor(c.req.header('authorization'), c.req.header('x-admin-actor')),
    action: actionName(method, path),
    eventId: /\/events\/(evt_[A-Za-z0-9_-]+)/.exec(path)?.[1] ?? (c.var.auditDetails?.eventId as string | undefined) ?? null,
    orderId: /\/orders\/(ord_[A-Za-z0-9_-]+)/.exec(path)?.[1] ?? null,
    status: c.res.status,
    requestId: c.var.requestId,
    details: c.var.auditDetails ?? {},
  };
  try {
    await recordAdminAction(pool, action);
  } catch (err) {
    // The action itself has happened; losing its record is logged loudly rather than reported as a failure.
    logger.error({ err, ...action }, 'admin action not recorded');
  }
  logger.info(action, 'admin action');
});
