/**
 * The admission controller's messages and its pure decision: how far to move
 * the serving position on one tick. Shared by the workflow and its tests.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export interface AdmissionLimits {
  maxActiveCheckouts: number;
  admitPerMinute: number;
  /** How long an admitted buyer has to start a checkout. */
  admissionWindowSeconds: number;
}

export interface AdmissionInput {
  eventId: string;
  onSaleAtMs: number;
  limits: AdmissionLimits;
  /** Carried across continue-as-new. */
  state?: AdmissionState;
  /** History length at which to continue as new (tests lower it). */
  maxHistoryEvents?: number;
  /**
   * How long the controller sleeps when nothing can happen without a buyer
   * (nobody waiting, no admission or offer outstanding). A join wakes it
   * sooner; this is only the backstop. Default 10 minutes.
   */
  idleSleepSeconds?: number;
}

export interface AdmissionState {
  opened: boolean;
  paused: boolean;
  soldOut: boolean;
  closed: boolean;
  serving: number;
  /** Fractional admissions earned by the rate limit and not yet spent. */
  credit: number;
  lastTickMs: number;
  admittedTotal: number;
  offersTotal: number;
  /** Serving position at recent ticks, for the measured admission rate. */
  recent: [atMs: number, serving: number][];
  limits: AdmissionLimits;
  runs: number;
}

/** What an activity reads from Redis and Postgres on each tick. */
export interface EventLoad {
  queueLength: number;
  serving: number;
  /** Admitted buyers who have not started a checkout and whose window is open. */
  pending: number;
  /** Checkouts holding seats now. */
  activeHolds: number;
  seatsAvailable: number;
  seatsHeld: number;
  waitlistLength: number;
}

export interface TickPlan {
  admitTo: number;
  credit: number;
  soldOut: boolean;
  /** Seats free to offer to the waitlist. */
  offerSeats: number;
}

/** At most this many seconds of unused rate can pile up, so a pause is not followed by a burst. */
const MAX_CREDIT_SECONDS = 2;

export function planTick(state: AdmissionState, load: EventLoad, nowMs: number): TickPlan {
  const perMs = state.limits.admitPerMinute / 60_000;
  const elapsed = Math.max(0, nowMs - state.lastTickMs);
  const credit = Math.min(state.credit + perMs * elapsed, Math.max(1, perMs * MAX_CREDIT_SECONDS * 1000));
  const serving = Math.max(state.serving, load.serving);
  const soldOut = load.seatsAvailable === 0 && load.seatsHeld === 0;
  if (state.paused || !state.opened || state.closed) return { admitTo: serving, credit, soldOut, offerSeats: 0 };
  const byActive = state.limits.maxActiveCheckouts - load.activeHolds - load.pending;
  const bySeats = load.seatsAvailable - load.pending;
  const byQueue = load.queueLength - serving;
  const n = Math.max(0, Math.floor(Math.min(credit, byActive, bySeats, byQueue)));
  // Seats that come back once the queue has been served go to the waitlist.
  const offerSeats = byQueue - n <= 0 && load.waitlistLength > 0 ? Math.max(0, bySeats - n) : 0;
  return { admitTo: serving + n, credit: credit - n, soldOut, offerSeats };
}

/** Admissions per minute over the recent ticks. */
export function measuredRate(recent: [number, number][]): number {
  if (recent.length < 2) return 0;
  const [t0, s0] = recent[0]!;
  const [t1, s1] = recent[recent.length - 1]!;
  return t1 > t0 ? ((s1 - s0) * 60_000) / (t1 - t0) : 0;
}

export const pauseUpdate = defineUpdate<AdmissionState, []>('pause');
export const resumeUpdate = defineUpdate<AdmissionState, []>('resume');
export const setLimitsUpdate = defineUpdate<AdmissionState, [Partial<AdmissionLimits>]>('setLimits');
export const closeUpdate = defineUpdate<AdmissionState, []>('close');
/**
 * Wakes a sleeping controller. The API sends it at most once a second per
 * event, and only while the controller has said it is asleep (see
 * WaitingRoom.markAsleep / claimWake), never once per buyer.
 */
export const wakeSignal = defineSignal<[]>('wake');
export const admissionQuery = defineQuery<AdmissionState>('admission');
