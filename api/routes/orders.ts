import { createRoute } from '@hono/zod-openapi';
import { findOrder } from '../../db/queries/orders';
import { DomainError } from '../../domain/errors';
import { publicEventLinks } from '../links';
import { router } from '../router';
import { requireBuyerOrAdmin } from '../middleware/auth';
import { errorResponses, OrderBody, OrderIdParam } from '../schemas';

const getOrder = createRoute({
  method: 'get',
  path: '/v1/orders/{orderId}',
  tags: ['Orders'],
  security: [{ buyer: [] }, { admin: [] }],
  middleware: requireBuyerOrAdmin,
  request: { params: OrderIdParam },
  responses: {
    200: {
      description: 'The order',
      content: { 'application/json': { schema: OrderBody } },
      links: { GetEvent: publicEventLinks('$response.body#/eventId').GetEvent! },
    },
    ...errorResponses(400, 401, 404),
  },
});

export function orderRoutes() {
  return router().openapi(getOrder, async (c) => {
    // The route's validator has already checked the id's shape.
    const orderId = c.req.param('orderId') ?? '';
    const order = await findOrder(c.var.services.pool, orderId);
    // Another buyer's order is indistinguishable from a missing one.
    if (!order || (!c.var.isAdmin && order.buyerId !== c.var.buyer.buyerId)) {
      throw new DomainError('NOT_FOUND', 'no such order', { orderId });
    }
    return c.json(
      {
        orderId: order.orderId,
        eventId: order.eventId,
        buyerId: order.buyerId,
        status: order.status,
        seatIds: order.seatIds,
        amountCents: order.amountCents,
        createdAt: order.createdAt.toISOString(),
      },
      200,
    );
  });
}
