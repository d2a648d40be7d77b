import { randomBytes } from 'node:crypto';
import { createRoute } from '@hono/zod-openapi';
import { insertBuyer } from '../../db/queries/buyers';
import { DomainError } from '../../domain/errors';
import { router } from '../router';
import { DevBuyerBody, DevBuyerResult, errorResponses } from '../schemas';

const createBuyer = createRoute({
  method: 'post',
  path: '/v1/dev/buyers',
  tags: ['Development'],
  description: 'Development mode only: creates a buyer and returns a signed buyer token.',
  request: { body: { content: { 'application/json': { schema: DevBuyerBody } }, required: false } },
  responses: {
    201: { description: 'A buyer and its token', content: { 'application/json': { schema: DevBuyerResult } } },
    ...errorResponses(400, 404, 413),
  },
});

export function devRoutes() {
  return router().openapi(createBuyer, async (c) => {
    const deps = c.var.services;
    if (deps.config.ONSALE_MODE !== 'development' || !deps.buyerTokens.issue) {
      throw new DomainError('NOT_FOUND', 'not found');
    }
    const body = c.req.valid('json') ?? {};
    const buyerId = `byr_${randomBytes(12).toString('base64url')}`;
    const name = body.name ?? 'Test Buyer';
    const email = body.email ?? `${buyerId.toLowerCase().replace(/[^a-z0-9]/g, '')}@buyers.onsale.test`;
    await insertBuyer(deps.pool, { id: buyerId, name, email });
    const token = await deps.buyerTokens.issue({
      buyerId,
      name,
      email,
      ...(body.verifiedIdentity && { verifiedIdentity: body.verifiedIdentity }),
      ...(body.risk !== undefined && { risk: body.risk }),
    });
    return c.json({ buyerId, token }, 201);
  });
}
