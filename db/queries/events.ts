import type { PoolClient } from 'pg';
import { FAIRNESS_DEFAULTS, type FairnessSettings } from '../../domain/fairness';
import { ROOM_LIMIT_DEFAULTS, type RoomLimits } from '../../domain/queue';
import { insertSeatsForSections } from './seats';

export interface SectionSpec {
  id: string;
  name: string;
  rows: number;
  seatsPerRow: number;
  priceCents: number;
}

export interface WaitingRoomSpec extends Partial<RoomLimits>, Partial<FairnessSettings> {
  enabled: boolean;
  maxActiveCheckouts: number;
  admitPerMinute: number;
  /** How long an admitted buyer has to start a checkout before the turn passes on. */
  admissionWindowSeconds?: number;
}

export interface EventSpec {
  id: string;
  name: string;
  onSaleAt: Date;
  holdSeconds: number;
  maxSeatsPerBuyer: number;
  waitingRoom: WaitingRoomSpec;
  sections: SectionSpec[];
  venue?: string | null;
  startsAt?: Date | null;
  description?: string | null;
}

export type EventState = 'draft' | 'open' | 'paused' | 'closed';

export interface EventRow {
  id: string;
  name: string;
  state: EventState;
  onSaleAt: Date;
  holdSeconds: number;
  maxSeatsPerBuyer: number;
  waitingRoom: Required<WaitingRoomSpec>;
  venue: string | null;
  startsAt: Date | null;
  description: string | null;
  createdAt: Date;
}

/** Creates the event, its sections and every seat in three set-based statements; answers the seat count. */
export async function insertEvent(client: PoolClient, spec: EventSpec): Promise<number> {
  await client.query(
    `INSERT INTO events (id, name, on_sale_at, hold_seconds, max_seats_per_buyer,
                         waiting_room_enabled, max_active_checkouts, admit_per_minute,
                         admission_window_seconds, pow_difficulty, max_places_per_ip,
                         rate_window_seconds, join_limit_per_ip, join_limit_per_buyer, status_limit_per_buyer,
                         venue, starts_at, description,
                         pow_demand_queue, pow_demand_difficulty, pow_max_difficulty, max_places_per_identity,
                         require_verified_identity, risk_extra_pow_above, risk_refuse_above, card_limit, verified_first,
                         unverified_seat_limit)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, COALESCE($9, 120), COALESCE($10, 0), $11, $12, $13, $14, $15, $16, $17, $18,
             $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)`,
    [
      spec.id,
      spec.name,
      spec.onSaleAt,
      spec.holdSeconds,
      spec.maxSeatsPerBuyer,
      spec.waitingRoom.enabled,
      spec.waitingRoom.maxActiveCheckouts,
      spec.waitingRoom.admitPerMinute,
      spec.waitingRoom.admissionWindowSeconds ?? null,
      spec.waitingRoom.powDifficulty ?? null,
      spec.waitingRoom.maxPlacesPerIp ?? ROOM_LIMIT_DEFAULTS.maxPlacesPerIp,
      spec.waitingRoom.rateWindowSeconds ?? ROOM_LIMIT_DEFAULTS.rateWindowSeconds,
      spec.waitingRoom.joinLimitPerIp ?? ROOM_LIMIT_DEFAULTS.joinLimitPerIp,
      spec.waitingRoom.joinLimitPerBuyer ?? ROOM_LIMIT_DEFAULTS.joinLimitPerBuyer,
      spec.waitingRoom.statusLimitPerBuyer ?? ROOM_LIMIT_DEFAULTS.statusLimitPerBuyer,
      spec.venue ?? null,
      spec.startsAt ?? null,
      spec.description ?? null,
      ...fairnessValues({ ...FAIRNESS_DEFAULTS, ...defined(spec.waitingRoom) }),
    ],
  );
  await client.query(
    `INSERT INTO sections (event_id, id, name, rows, seats_per_row, price_cents, rank)
     SELECT $1, s.id, s.name, s.rows, s.seats_per_row, s.price_cents, s.rank
       FROM unnest($2::text[], $3::text[], $4::int[], $5::int[], $6::int[])
            WITH ORDINALITY AS s(id, name, rows, seats_per_row, price_cents, rank)`,
    [
      spec.id,
      spec.sections.map((s) => s.id),
      spec.sections.map((s) => s.name),
      spec.sections.map((s) => s.rows),
      spec.sections.map((s) => s.seatsPerRow),
      spec.sections.map((s) => s.priceCents),
    ],
  );
  return insertSeatsForSections(client, spec.id);
}

const EVENT_COLUMNS = `id, name, state, on_sale_at, hold_seconds, max_seats_per_buyer,
  waiting_room_enabled, max_active_checkouts, admit_per_minute, admission_window_seconds, pow_difficulty,
  max_places_per_ip, rate_window_seconds, join_limit_per_ip, join_limit_per_buyer, status_limit_per_buyer,
  venue, starts_at, description, created_at,
  pow_demand_queue, pow_demand_difficulty, pow_max_difficulty, max_places_per_identity,
  require_verified_identity, risk_extra_pow_above, risk_refuse_above, card_limit, verified_first, unverified_seat_limit`;

/** The fairness columns in the order insertEvent and updateWaitingRoomLimits list them. */
const fairnessValues = (f: Partial<FairnessSettings>) => [
  f.powDemandQueue ?? null,
  f.powDemandDifficulty ?? null,
  f.powMaxDifficulty ?? null,
  f.maxPlacesPerIdentity ?? null,
  f.requireVerifiedIdentity ?? null,
  f.riskExtraPowAbove ?? null,
  f.riskRefuseAbove ?? null,
  f.cardLimit ?? null,
  f.verifiedFirst ?? null,
  f.unverifiedSeatLimit ?? null,
];

const defined = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

interface RawEvent {
  id: string;
  name: string;
  state: EventState;
  on_sale_at: Date;
  hold_seconds: number;
  max_seats_per_buyer: number;
  waiting_room_enabled: boolean;
  max_active_checkouts: number;
  admit_per_minute: number;
  admission_window_seconds: number;
  pow_difficulty: number;
  max_places_per_ip: number;
  rate_window_seconds: number;
  join_limit_per_ip: number;
  join_limit_per_buyer: number;
  status_limit_per_buyer: number;
  venue: string | null;
  starts_at: Date | null;
  description: string | null;
  created_at: Date;
  pow_demand_queue: number;
  pow_demand_difficulty: number;
  pow_max_difficulty: number;
  max_places_per_identity: number;
  require_verified_identity: boolean;
  risk_extra_pow_above: number;
  risk_refuse_above: number;
  card_limit: boolean;
  verified_first: boolean;
  unverified_seat_limit: number;
}

function toEvent(r: RawEvent): EventRow {
  return {
    id: r.id,
    name: r.name,
    state: r.state,
    onSaleAt: r.on_sale_at,
    holdSeconds: r.hold_seconds,
    maxSeatsPerBuyer: r.max_seats_per_buyer,
    waitingRoom: {
      enabled: r.waiting_room_enabled,
      maxActiveCheckouts: r.max_active_checkouts,
      admitPerMinute: r.admit_per_minute,
      admissionWindowSeconds: r.admission_window_seconds,
      powDifficulty: r.pow_difficulty,
      maxPlacesPerIp: r.max_places_per_ip,
      rateWindowSeconds: r.rate_window_seconds,
      joinLimitPerIp: r.join_limit_per_ip,
      joinLimitPerBuyer: r.join_limit_per_buyer,
      statusLimitPerBuyer: r.status_limit_per_buyer,
      powDemandQueue: r.pow_demand_queue,
      powDemandDifficulty: r.pow_demand_difficulty,
      powMaxDifficulty: r.pow_max_difficulty,
      maxPlacesPerIdentity: r.max_places_per_identity,
      requireVerifiedIdentity: r.require_verified_identity,
      riskExtraPowAbove: r.risk_extra_pow_above,
      riskRefuseAbove: r.risk_refuse_above,
      cardLimit: r.card_limit,
      verifiedFirst: r.verified_first,
      unverifiedSeatLimit: r.unverified_seat_limit,
    },
    venue: r.venue,
    startsAt: r.starts_at,
    description: r.description,
    createdAt: r.created_at,
  };
}

export async function findEvent(client: Pick<PoolClient, 'query'>, eventId: string): Promise<EventRow | null> {
  const { rows } = await client.query<RawEvent>(`SELECT ${EVENT_COLUMNS} FROM events WHERE id = $1`, [eventId]);
  return rows[0] ? toEvent(rows[0]) : null;
}

/** Moves the event between sale states; returns the row, or null when the event does not exist. */
export async function setEventState(
  client: Pick<PoolClient, 'query'>,
  eventId: string,
  state: EventState,
  from: EventState[],
): Promise<{ event: EventRow | null; changed: boolean }> {
  const { rows } = await client.query<RawEvent>(
    `UPDATE events SET state = $2 WHERE id = $1 AND state = ANY($3::text[]) RETURNING ${EVENT_COLUMNS}`,
    [eventId, state, from],
  );
  if (rows[0]) return { event: toEvent(rows[0]), changed: true };
  return { event: await findEvent(client, eventId), changed: false };
}

export type WaitingRoomLimitsChange = Partial<
  Pick<WaitingRoomSpec, 'maxActiveCheckouts' | 'admitPerMinute' | 'admissionWindowSeconds'> & RoomLimits & FairnessSettings
>;

/** Changes the given limits and keeps the others; answers whether the event exists. */
export async function updateWaitingRoomLimits(
  client: Pick<PoolClient, 'query'>,
  eventId: string,
  limits: WaitingRoomLimitsChange,
): Promise<boolean> {
  const { rowCount } = await client.query(
    `UPDATE events SET max_active_checkouts = COALESCE($2, max_active_checkouts),
                       admit_per_minute = COALESCE($3, admit_per_minute),
                       admission_window_seconds = COALESCE($4, admission_window_seconds),
                       rate_window_seconds = COALESCE($5, rate_window_seconds),
                       join_limit_per_ip = COALESCE($6, join_limit_per_ip),
                       join_limit_per_buyer = COALESCE($7, join_limit_per_buyer),
                       status_limit_per_buyer = COALESCE($8, status_limit_per_buyer),
                       max_places_per_ip = COALESCE($9, max_places_per_ip),
                       pow_demand_queue = COALESCE($10, pow_demand_queue),
                       pow_demand_difficulty = COALESCE($11, pow_demand_difficulty),
                       pow_max_difficulty = COALESCE($12, pow_max_difficulty),
                       max_places_per_identity = COALESCE($13, max_places_per_identity),
                       require_verified_identity = COALESCE($14, require_verified_identity),
                       risk_extra_pow_above = COALESCE($15, risk_extra_pow_above),
                       risk_refuse_above = COALESCE($16, risk_refuse_above),
                       card_limit = COALESCE($17, card_limit),
                       verified_first = COALESCE($18, verified_first),
                       unverified_seat_limit = COALESCE($19, unverified_seat_limit),
                       pow_difficulty = COALESCE($20, pow_difficulty)
      WHERE id = $1`,
    [
      eventId,
      limits.maxActiveCheckouts ?? null,
      limits.admitPerMinute ?? null,
      limits.admissionWindowSeconds ?? null,
      limits.rateWindowSeconds ?? null,
      limits.joinLimitPerIp ?? null,
      limits.joinLimitPerBuyer ?? null,
      limits.statusLimitPerBuyer ?? null,
      limits.maxPlacesPerIp ?? null,
      ...fairnessValues(limits),
      limits.powDifficulty ?? null,
    ],
  );
  return rowCount === 1;
}

/** An event's sections in their display order. */
export async function loadSections(
  client: Pick<PoolClient, 'query'>,
  eventId: string,
): Promise<{ id: string; name: string; priceCents: number }[]> {
  const { rows } = await client.query<{ id: string; name: string; price_cents: number }>(
    'SELECT id, name, price_cents FROM sections WHERE event_id = $1 ORDER BY rank',
    [eventId],
  );
  return rows.map((r) => ({ id: r.id, name: r.name, priceCents: r.price_cents }));
}

/** The public statuses an event list can be filtered by (see api/events-view.ts publicStatus). */
export type ListStatus = 'draft' | 'scheduled' | 'on_sale' | 'paused' | 'sold_out' | 'closed';

/** SQL for each public status; "sold out" means no seat is left unsold (held seats may still come back). */
const STATUS_FILTER: Record<ListStatus, string> = {
  draft: `e.state = 'draft'`,
  paused: `e.state = 'paused'`,
  closed: `e.state = 'closed'`,
  scheduled: `e.state = 'open' AND e.on_sale_at > now()`,
  on_sale: `e.state = 'open' AND e.on_sale_at <= now() AND EXISTS (SELECT 1 FROM seats s WHERE s.event_id = e.id AND s.status <> 'sold')`,
  sold_out: `e.state = 'open' AND e.on_sale_at <= now() AND NOT EXISTS (SELECT 1 FROM seats s WHERE s.event_id = e.id AND s.status <> 'sold')`,
};

export interface EventPage {
  events: (EventRow & { revenueCents: number })[];
  /** Where the next page starts: the last row's (created_at, id), the time as Postgres prints it (microseconds kept). */
  next: { createdAt: string; id: string } | null;
}

/** A page of events newest first, with each event's revenue from confirmed orders. */
export async function listEvents(
  client: Pick<PoolClient, 'query'>,
  opts: { status?: ListStatus; after?: { createdAt: string; id: string }; limit: number },
): Promise<EventPage> {
  const where: string[] = [];
  const params: unknown[] = [opts.limit + 1];
  if (opts.status) where.push(STATUS_FILTER[opts.status]);
  if (opts.after) {
    params.push(opts.after.createdAt, opts.after.id);
    where.push(`(e.created_at, e.id) < ($2::timestamptz, $3::text)`);
  }
  const cols = EVENT_COLUMNS.split(',')
    .map((c) => `e.${c.trim()}`)
    .join(', ');
  const { rows } = await client.query<RawEvent & { revenue: string; created_text: string }>(
    `SELECT ${cols}, e.created_at::text AS created_text,
            COALESCE((SELECT sum(o.amount_cents) FROM orders o WHERE o.event_id = e.id AND o.status = 'confirmed'), 0)::bigint AS revenue
       FROM events e
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY e.created_at DESC, e.id DESC
      LIMIT $1`,
    params,
  );
  const page = rows.slice(0, opts.limit);
  const last = page[page.length - 1];
  return {
    events: page.map((r) => ({ ...toEvent(r), revenueCents: Number(r.revenue) })),
    next: rows.length > opts.limit && last ? { createdAt: last.created_text, id: last.id } : null,
  };
}
