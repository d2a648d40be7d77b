/** Request and response schemas of the public contract (API.md), also served as OpenAPI 3.1. */
import { z } from '@hono/zod-openapi';
import { FAIRNESS_DEFAULTS } from '../domain/fairness';
import { RESOURCE_ID } from '../domain/ids';
import { QUEUE_STATUSES, type QueueStatus, ROOM_LIMIT_DEFAULTS } from '../domain/queue';

/** The waiting room's per-event limits of its public paths; defaults fit shared addresses (README: "Limits"). */
const roomLimitFields = {
  rateWindowSeconds: z.number().int().min(1).max(3600).openapi({ description: 'The window the rate limits count in' }),
  joinLimitPerIp: z.number().int().min(1).max(10_000_000).openapi({ description: 'Joins per window from one address' }),
  joinLimitPerBuyer: z.number().int().min(1).max(100_000).openapi({ description: 'Joins per window by one buyer' }),
  statusLimitPerBuyer: z.number().int().min(1).max(100_000).openapi({ description: 'GET /queue/me per window by one buyer' }),
  maxPlacesPerIp: z.number().int().min(1).max(100_000).openapi({ description: 'Queue places one address may hold in the event' }),
};

/** A risk score threshold, kept to three decimals: the column is a 4-byte real, which a value like 1e-300 would underflow. */
const riskThreshold = z
  .number()
  .min(0)
  .max(1)
  .transform((v) => Math.round(v * 1000) / 1000);

/** The per-event defences against bots (domain/fairness.ts), beside the other waiting-room limits. */
const fairnessFields = {
  powDifficulty: z.number().int().min(0).max(28).openapi({ description: 'Proof-of-work bits while the line is short; 0: free' }),
  powDemandQueue: z
    .number()
    .int()
    .min(1)
    .max(100_000_000)
    .openapi({ description: 'Buyers in line above which joining costs powDemandDifficulty bits, one more per doubling' }),
  powDemandDifficulty: z.number().int().min(0).max(28).openapi({ description: 'Proof-of-work bits once the line is long' }),
  powMaxDifficulty: z.number().int().min(0).max(28).openapi({ description: 'The most the demand raises it to' }),
  maxPlacesPerIdentity: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .openapi({ description: "Places one verified person (the buyer token's verified_id claim) may hold, across accounts" }),
  requireVerifiedIdentity: z.boolean().openapi({ description: 'Refuse buyers whose token has no verified_id claim' }),
  riskExtraPowAbove: riskThreshold.openapi({ description: "A token's risk claim above this pays 4 more proof-of-work bits" }),
  riskRefuseAbove: riskThreshold.openapi({ description: "A token's risk claim above this gets no place" }),
  cardLimit: z.boolean().openapi({ description: 'A card pays for at most maxSeatsPerBuyer seats of the event, across accounts' }),
  verifiedFirst: z.boolean().openapi({
    description: 'Early arrivals with a verified_id claim are shuffled ahead of those without one; later arrivals keep arrival order',
  }),
  unverifiedSeatLimit: z.number().int().min(1).max(50).openapi({
    description:
      'Seats an account may hold and buy for the event (maxSeatsPerBuyer if smaller) when it has no verified_id claim on a platform whose identity provider verifies people, or its risk claim is above riskExtraPowAbove',
  }),
};

const withFairnessDefaults = <T extends Record<string, z.ZodTypeAny>>(fields: T) =>
  Object.fromEntries(
    Object.entries(fields).map(([k, f]) => [k, f.default(FAIRNESS_DEFAULTS[k as keyof typeof FAIRNESS_DEFAULTS] as never)]),
  ) as { [K in keyof T]: z.ZodDefault<T[K]> };

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'SEATS_UNAVAILABLE' }),
      message: z.string(),
      details: z.record(z.string(), z.unknown()),
    }),
  })
  .openapi('Error');

/** An e-mail address as onsale accepts it: published as the pattern it is checked with, so clients and the server agree. */
const Email = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}$/, 'not an e-mail address');

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is malformed (VALIDATION_FAILED)',
  401: 'No valid credentials (UNAUTHENTICATED)',
  402: 'The card was declined (PAYMENT_DECLINED); the hold stays',
  403: 'Not allowed (FORBIDDEN, NOT_ADMITTED)',
  404: 'No such resource, or not yours (NOT_FOUND, HOLD_NOT_FOUND)',
  409: 'Conflicts with the current state (SEATS_UNAVAILABLE, CHECKOUT_IN_PROGRESS, EVENT_NOT_ON_SALE, ...)',
  410: 'It has ended (HOLD_EXPIRED)',
  413: 'The body is too large (PAYLOAD_TOO_LARGE)',
  422: 'Against the sale terms (LIMIT_EXCEEDED)',
  429: 'Too many requests (RATE_LIMITED); Retry-After says when to try again',
  503: 'Over capacity or a backing service is down (UNAVAILABLE); Retry-After says when to try again',
};

const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'string' as const } } };

const errorAnswers = (...statuses: number[]) =>
  Object.fromEntries(
    [...new Set(statuses)].map((s) => [
      s,
      {
        description: ERROR_DESCRIPTIONS[s] ?? 'error',
        ...((s === 429 || s === 503) && { headers: RETRY_AFTER }),
        content: { 'application/json': { schema: ErrorBody } },
      },
    ]),
  );

/**
 * The error answers of an operation, in the error contract. 503 is always
 * among them: load shedding can answer any request past capacity.
 */
export const errorResponses = (...statuses: number[]) => errorAnswers(...statuses, 503);

/** The error answers of an operation load shedding never answers (health, readiness, metrics: api/middleware/shed.ts). */
export const unshedErrorResponses = (...statuses: number[]) => errorAnswers(...statuses);

export const EventIdParam = z.object({
  eventId: z
    .string()
    .regex(RESOURCE_ID, 'not an event id')
    .openapi({ param: { name: 'eventId', in: 'path' }, example: 'evt_2x8Kq0aZ' }),
});

export const SectionInput = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_]{1,16}$/, 'letters, digits and _ only, at most 16'),
    name: z.string().min(1).max(100),
    rows: z.number().int().min(1).max(1000),
    seatsPerRow: z.number().int().min(1).max(1000),
    priceCents: z.number().int().min(0).max(10_000_000),
  })
  .strict();

/** Where and when the show is, for buyers and for the organiser's list. */
const EventDescriptionFields = {
  venue: z.string().trim().min(1).max(200).optional(),
  startsAt: z.iso.datetime({ offset: true }).optional().openapi({ description: 'When the show starts' }),
  description: z.string().trim().max(5000).optional(),
};

export const CreateEventBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    onSaleAt: z.iso.datetime({ offset: true }).optional(),
    holdSeconds: z.number().int().min(30).max(3600).default(300),
    maxSeatsPerBuyer: z.number().int().min(1).max(50).default(6),
    waitingRoom: z
      .object({
        enabled: z.boolean().default(true),
        maxActiveCheckouts: z.number().int().min(1).max(1_000_000).default(500),
        admitPerMinute: z.number().int().min(1).max(10_000_000).default(6000),
        admissionWindowSeconds: z.number().int().min(10).max(3600).default(120),
        ...withFairnessDefaults(fairnessFields),
        rateWindowSeconds: roomLimitFields.rateWindowSeconds.default(ROOM_LIMIT_DEFAULTS.rateWindowSeconds),
        joinLimitPerIp: roomLimitFields.joinLimitPerIp.default(ROOM_LIMIT_DEFAULTS.joinLimitPerIp),
        joinLimitPerBuyer: roomLimitFields.joinLimitPerBuyer.default(ROOM_LIMIT_DEFAULTS.joinLimitPerBuyer),
        statusLimitPerBuyer: roomLimitFields.statusLimitPerBuyer.default(ROOM_LIMIT_DEFAULTS.statusLimitPerBuyer),
        maxPlacesPerIp: roomLimitFields.maxPlacesPerIp.default(ROOM_LIMIT_DEFAULTS.maxPlacesPerIp),
      })
      .strict()
      .default({
        enabled: true,
        maxActiveCheckouts: 500,
        admitPerMinute: 6000,
        admissionWindowSeconds: 120,
        ...FAIRNESS_DEFAULTS,
        ...ROOM_LIMIT_DEFAULTS,
      }),
    sections: z
      .array(SectionInput)
      .min(1)
      .max(200)
      .refine((s) => new Set(s.map((x) => x.id)).size === s.length, 'section ids must be unique')
      .refine((s) => s.reduce((n, x) => n + x.rows * x.seatsPerRow, 0) <= 200_000, 'at most 200,000 seats per event'),
    ...EventDescriptionFields,
  })
  .strict()
  .openapi('CreateEvent');

export const CreatedEvent = z.object({ eventId: z.string(), seatCount: z.number() }).openapi('CreatedEvent');

export const SeatCountsBody = z.object({ available: z.number(), held: z.number(), sold: z.number() });

export const EventBody = z
  .object({
    eventId: z.string(),
    name: z.string(),
    status: z.enum(['draft', 'scheduled', 'on_sale', 'paused', 'sold_out', 'closed']),
    onSaleAt: z.string(),
    holdSeconds: z.number(),
    maxSeatsPerBuyer: z.number(),
    waitingRoom: z.object({
      enabled: z.boolean(),
      maxActiveCheckouts: z.number(),
      admitPerMinute: z.number(),
      admissionWindowSeconds: z.number(),
      powDifficulty: z.number(),
      maxPlacesPerIp: z.number(),
      rateWindowSeconds: z.number(),
      joinLimitPerIp: z.number(),
      joinLimitPerBuyer: z.number(),
      statusLimitPerBuyer: z.number(),
    }),
    counts: SeatCountsBody,
    venue: z.string().nullable(),
    startsAt: z.string().nullable(),
    description: z.string().nullable(),
  })
  .openapi('Event');

export const SeatBody = z.object({
  seatId: z.string(),
  section: z.string(),
  row: z.number(),
  number: z.number(),
  priceCents: z.number(),
  status: z.enum(['available', 'held', 'sold']),
});

export const SeatMapBody = z.object({ eventId: z.string(), version: z.number(), seats: z.array(SeatBody) }).openapi('SeatMap');

export const SeatLayoutBody = z
  .object({
    eventId: z.string(),
    layoutVersion: z.string().openapi({ description: 'A digest of the layout; also the ETag' }),
    seatCount: z.number(),
    sections: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        priceCents: z.number(),
        rows: z.array(z.object({ row: z.number(), numbers: z.array(z.number()) })),
      }),
    ),
  })
  .openapi('SeatLayout');

export const SeatStatusesBody = z
  .object({
    eventId: z.string(),
    version: z.number().openapi({ description: 'The seat-map version; also the ETag' }),
    encoding: z.literal('2bit-base64'),
    seatCount: z.number(),
    statuses: z.string().openapi({
      description:
        "Base64 of every seat's status in the seatmap's order (sections, rows, numbers as listed), two bits a seat " +
        '(0 available, 1 held, 2 sold), four seats a byte, the first seat in the high bits',
    }),
  })
  .openapi('SeatStatuses');

export const IfNoneMatchHeader = z.object({
  'if-none-match': z.string().max(1024).optional().openapi({ description: 'An ETag this client holds: 304 when still current' }),
});

const SeatIdString = z.string().regex(/^[A-Za-z0-9_]{1,16}-[1-9][0-9]{0,3}-[1-9][0-9]{0,3}$/, 'not a seat id');

export const HoldBody = z
  .union([
    z
      .object({
        seatIds: z
          .array(SeatIdString)
          .min(1)
          .max(50)
          .refine((ids) => new Set(ids).size === ids.length, 'seat ids must not repeat')
          .openapi({ uniqueItems: true }),
      })
      .strict(),
    z
      .object({
        quantity: z.number().int().min(1).max(50),
        section: z
          .string()
          .regex(/^[A-Za-z0-9_]{1,16}$/)
          .optional(),
      })
      .strict(),
  ])
  .openapi('HoldRequest');

export const HoldView = z
  .object({ holdId: z.string(), seatIds: z.array(z.string()), expiresAt: z.string(), amountCents: z.number() })
  .openapi('Hold');

export const HoldIdString = z.string().regex(/^hold_[a-f0-9]{32}$/, 'not a hold id');

export const HoldParams = EventIdParam.extend({
  holdId: HoldIdString.openapi({ param: { name: 'holdId', in: 'path' } }),
});

export const PurchaseBody = z
  .object({
    holdId: HoldIdString,
    paymentMethod: z.string().regex(/^pm_[A-Za-z0-9_]{1,64}$/, 'not a payment method id'),
  })
  .strict()
  .openapi('PurchaseRequest');

export const OrderResult = z
  .object({ orderId: z.string(), status: z.literal('confirmed'), seatIds: z.array(z.string()), amountCents: z.number() })
  .openapi('PurchaseResult');

export const OrderBody = z
  .object({
    orderId: z.string(),
    eventId: z.string(),
    buyerId: z.string(),
    status: z.enum(['confirmed', 'refunded']),
    seatIds: z.array(z.string()),
    amountCents: z.number(),
    createdAt: z.string(),
  })
  .openapi('Order');

export const OrderIdParam = z.object({
  orderId: z
    .string()
    .regex(/^ord_[a-f0-9]{32}$/, 'not an order id')
    .openapi({ param: { name: 'orderId', in: 'path' } }),
});

export const DevBuyerBody = z
  .object({
    name: z.string().trim().min(1).max(100).optional(),
    email: Email.optional(),
    verifiedIdentity: z
      .string()
      .regex(/^[A-Za-z0-9_|:.-]{3,100}$/)
      .optional()
      .openapi({ description: "The token's verified_id claim: the person an identity provider verified (several accounts may share it)" }),
    risk: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .openapi({ description: "The token's risk claim, as an identity provider would score the account" }),
  })
  .strict()
  .openapi('DevBuyerRequest');

export const DevBuyerResult = z.object({ buyerId: z.string(), token: z.string() }).openapi('DevBuyer');

export const Ok = z.object({ ok: z.literal(true) });

const TemporalLink = z.string().openapi({
  description: 'A page of the Temporal UI',
  example: 'http://127.0.0.1:8233/namespaces/default/workflows/checkout%3Aevt_x%3Abyr_y',
});

export const AdminEventBody = z
  .object({
    eventId: z.string(),
    name: z.string(),
    state: z.enum(['draft', 'open', 'paused', 'closed']),
    status: z.enum(['draft', 'scheduled', 'on_sale', 'paused', 'sold_out', 'closed']),
    onSaleAt: z.string(),
    holdSeconds: z.number(),
    maxSeatsPerBuyer: z.number(),
    waitingRoom: z.object({ enabled: z.boolean(), maxActiveCheckouts: z.number(), admitPerMinute: z.number() }),
    counts: SeatCountsBody,
    venue: z.string().nullable(),
    startsAt: z.string().nullable(),
    description: z.string().nullable(),
    holds: z.object({ active: z.number(), purchased: z.number(), released: z.number(), expired: z.number() }),
    orders: z.object({ count: z.number(), seats: z.number(), revenueCents: z.number() }),
    payments: z.object({ pending: z.number(), succeeded: z.number(), declined: z.number(), refunded: z.number() }),
    temporal: z.object({
      checkouts: TemporalLink.openapi({ description: 'Every checkout workflow of this event (EventId search attribute)' }),
      admission: TemporalLink.openapi({ description: "The event's admission workflow" }),
    }),
    recentCheckouts: z.array(
      z.object({
        holdId: z.string(),
        buyerId: z.string(),
        workflowId: z.string(),
        status: z.string(),
        seatIds: z.array(z.string()),
        amountCents: z.number(),
        expiresAt: z.string(),
        createdAt: z.string(),
        orderId: z.string().nullable(),
        temporalUrl: TemporalLink,
      }),
    ),
  })
  .openapi('AdminEvent');

export const JoinBody = z
  .object({
    pow: z
      .object({ challenge: z.string().max(100), nonce: z.string().regex(/^[0-9]{1,20}$/) })
      .strict()
      .optional(),
  })
  .strict()
  .openapi('JoinQueue');

export const QueueStatusEnum = z.enum(QUEUE_STATUSES as [QueueStatus, ...QueueStatus[]]);

export const JoinResult = z.object({ position: z.number(), status: QueueStatusEnum }).openapi('QueuePlace');

export const QueueMe = z
  .object({
    position: z.number(),
    servingPosition: z.number(),
    ahead: z.number(),
    estimatedWaitSeconds: z.number().openapi({ description: 'from the measured admission rate; -1 while unknown' }),
    status: QueueStatusEnum,
    admissionToken: z.string().optional(),
    admissionExpiresAt: z.string().optional(),
  })
  .openapi('QueueStatus');

export const QueueProgress = z
  .object({ servingPosition: z.number(), queueLength: z.number(), status: z.string() })
  .openapi('QueueProgress');

export const Challenge = z.object({ challenge: z.string(), difficulty: z.number() }).openapi('PowChallenge');

export const WaitlistBody = z
  .object({ quantity: z.number().int().min(1).max(50) })
  .strict()
  .openapi('JoinWaitlist');

export const WaitlistResult = z.object({ position: z.number() }).openapi('WaitlistPlace');

export const LimitsBody = z
  .object({
    maxActiveCheckouts: z.number().int().min(1).max(1_000_000).optional(),
    admitPerMinute: z.number().int().min(1).max(10_000_000).optional(),
    admissionWindowSeconds: z.number().int().min(10).max(3600).optional(),
    rateWindowSeconds: roomLimitFields.rateWindowSeconds.optional(),
    joinLimitPerIp: roomLimitFields.joinLimitPerIp.optional(),
    joinLimitPerBuyer: roomLimitFields.joinLimitPerBuyer.optional(),
    statusLimitPerBuyer: roomLimitFields.statusLimitPerBuyer.optional(),
    maxPlacesPerIp: roomLimitFields.maxPlacesPerIp.optional(),
    powDifficulty: fairnessFields.powDifficulty.optional(),
    powDemandQueue: fairnessFields.powDemandQueue.optional(),
    powDemandDifficulty: fairnessFields.powDemandDifficulty.optional(),
    powMaxDifficulty: fairnessFields.powMaxDifficulty.optional(),
    maxPlacesPerIdentity: fairnessFields.maxPlacesPerIdentity.optional(),
    requireVerifiedIdentity: fairnessFields.requireVerifiedIdentity.optional(),
    riskExtraPowAbove: fairnessFields.riskExtraPowAbove.optional(),
    riskRefuseAbove: fairnessFields.riskRefuseAbove.optional(),
    cardLimit: fairnessFields.cardLimit.optional(),
    verifiedFirst: fairnessFields.verifiedFirst.optional(),
    unverifiedSeatLimit: fairnessFields.unverifiedSeatLimit.optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'give at least one limit')
  .openapi('WaitingRoomLimits', { minProperties: 1 });

// ------------------------------------------------------------ organisers and support --

export const PUBLIC_STATUSES = ['draft', 'scheduled', 'on_sale', 'paused', 'sold_out', 'closed'] as const;

export const Cursor = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,200}$/, 'not a cursor')
  .openapi({ description: 'nextCursor of the previous page' });

/**
 * A whole number in a query string, from min to max: digits only, so an empty or
 * signed value is refused rather than read as 0; absent, the default. The pattern
 * states the range exactly, so clients (and fuzzers) see the bound the server enforces.
 */
export const queryInt = (min: number, max: number, fallback: number, pattern: RegExp) =>
  z
    .string()
    .regex(pattern, `not a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .optional()
    .transform((v) => v ?? fallback)
    .openapi({ description: `A whole number from ${min} to ${max}; ${fallback} when absent` });

const pageLimit = queryInt(1, 100, 25, /^([1-9]\d?|100)$/);

export const AdminEventListQuery = z.object({
  status: z.enum(PUBLIC_STATUSES).optional(),
  cursor: Cursor.optional(),
  limit: pageLimit,
});

/** What every event listing says of an event. */
const listedEventFields = {
  eventId: z.string(),
  name: z.string(),
  status: z.enum(PUBLIC_STATUSES),
  venue: z.string().nullable(),
  startsAt: z.string().nullable(),
  onSaleAt: z.string(),
};

export const EventSummary = z
  .object({
    ...listedEventFields,
    counts: SeatCountsBody,
    revenueCents: z.number(),
  })
  .openapi('EventSummary');

export const AdminEventList = z.object({ events: z.array(EventSummary), nextCursor: z.string().optional() }).openapi('EventList');

export const PublicEventListQuery = z.object({
  status: z.enum(['on_sale', 'scheduled']).default('on_sale'),
  cursor: Cursor.optional(),
  limit: pageLimit,
});

export const PublicEvent = z
  .object({
    ...listedEventFields,
    description: z.string().nullable(),
  })
  .openapi('PublicEvent');

export const PublicEventList = z.object({ events: z.array(PublicEvent), nextCursor: z.string().optional() }).openapi('PublicEventList');

export const OrderSearchQuery = z.object({
  status: z.enum(['confirmed', 'refunded']).optional(),
  buyerId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/, 'not a buyer id')
    .optional(),
  email: Email.optional(),
  cursor: Cursor.optional(),
  limit: pageLimit,
});

export const AdminOrder = z
  .object({
    orderId: z.string(),
    eventId: z.string(),
    buyerId: z.string(),
    email: z.string().nullable(),
    status: z.enum(['confirmed', 'refunded']),
    seatIds: z.array(z.string()),
    amountCents: z.number(),
    createdAt: z.string(),
    refundedAt: z.string().nullable(),
    paymentId: z.string(),
    checkoutWorkflowId: z.string(),
    temporalUrl: z.string().openapi({ description: "The buyer's checkout in the Temporal UI" }),
  })
  .openapi('AdminOrder');

export const AdminOrderList = z.object({ orders: z.array(AdminOrder), nextCursor: z.string().optional() }).openapi('AdminOrderList');

export const RefundResult = z
  .object({
    orderId: z.string(),
    status: z.enum(['refunded', 'refunding']).openapi({
      description: '"refunding" (202) when the refund workflow is still running, e.g. the payment provider is down; it finishes on its own',
    }),
    seatIds: z.array(z.string()).optional(),
    waitlistOffers: z.number().optional(),
    workflowId: z.string(),
    temporalUrl: z.string(),
  })
  .openapi('RefundResult');

export const ResendResult = z.object({ orderId: z.string(), queued: z.boolean() }).openapi('ResendResult');

export const EventStats = z
  .object({
    eventId: z.string(),
    at: z.string(),
    status: z.enum(PUBLIC_STATUSES),
    queueLength: z.number(),
    servingPosition: z.number(),
    admitted: z.number().openapi({ description: 'Buyers let through the waiting room so far (the serving position)' }),
    activeHolds: z.number(),
    sold: z.number().openapi({ description: 'Seats sold (confirmed orders)' }),
    orders: z.number(),
    refunds: z.number(),
    revenueCents: z.number(),
    counts: SeatCountsBody,
  })
  .openapi('EventStats');

export const AdminActionsQuery = z.object({
  eventId: z.string().regex(RESOURCE_ID, 'not an event id').optional(),
  limit: pageLimit,
});

export const AdminActionList = z
  .object({
    actions: z.array(
      z.object({
        id: z.number(),
        actor: z.string(),
        action: z.string(),
        eventId: z.string().nullable(),
        orderId: z.string().nullable(),
        status: z.number(),
        requestId: z.string().nullable(),
        details: z.record(z.string(), z.unknown()),
        at: z.string(),
      }),
    ),
  })
  .openapi('AdminActions');
