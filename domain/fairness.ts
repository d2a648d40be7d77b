import { DomainError } from './errors';

/**
 * The waiting room's defences against bots, per event, and the pure rules
 * both the API and the load simulator apply. The migration that adds the
 * columns (0007) uses the same defaults.
 */
export interface FairnessSettings {
  /** Difficulty when the line is short (0: a quiet sale costs nothing). */
  powDifficulty: number;
  /** More buyers in line than this and joining costs `powDemandDifficulty` bits, one more per doubling. */
  powDemandQueue: number;
  powDemandDifficulty: number;
  powMaxDifficulty: number;
  /** Places one verified person (the buyer token's `verified_id` claim) may hold, across accounts. */
  maxPlacesPerIdentity: number;
  /** Refuse buyers whose token carries no verified identity. */
  requireVerifiedIdentity: boolean;
  /** The identity provider's `risk` claim (0..1): above this, extra proof of work ... */
  riskExtraPowAbove: number;
  /** ... and above this, no place at all. */
  riskRefuseAbove: number;
  /** A card (its fingerprint) pays for at most maxSeatsPerBuyer seats of the event, across accounts. */
  cardLimit: boolean;
  /**
   * Early arrivals with a verified identity are shuffled into the front of the
   * line, those without one behind them (risky accounts last). Arrivals after
   * the opening keep arrival order; with no verified buyers it changes nothing.
   */
  verifiedFirst: boolean;
  /**
   * Seats an account may hold and buy for the event, counted like
   * maxSeatsPerBuyer (which stays the limit when it is the smaller), when no
   * verified person stands behind it on a platform whose identity provider
   * verifies people (BUYER_TOKEN_VERIFIES_PEOPLE), or when the provider
   * scores it as risky (its `risk` claim above riskExtraPowAbove). Where the
   * provider neither verifies nor scores anyone, nobody is limited by it.
   */
  unverifiedSeatLimit: number;
}

/**
 * A phone solves 12 bits in well under a second (bench/pow-browser.ts measures
 * the buyer page's solver in Chromium at 4x CPU throttling); each extra bit
 * doubles the work, so 22 bits is about a thousand times a person's cost.
 */
export const FAIRNESS_DEFAULTS: Readonly<FairnessSettings> = {
  powDifficulty: 0,
  powDemandQueue: 100,
  powDemandDifficulty: 12,
  powMaxDifficulty: 22,
  maxPlacesPerIdentity: 1,
  requireVerifiedIdentity: false,
  riskExtraPowAbove: 0.5,
  riskRefuseAbove: 0.9,
  cardLimit: true,
  verifiedFirst: true,
  unverifiedSeatLimit: 2,
};

/** Bits added for a buyer the identity provider scores as risky: 16 times the work. */
export const RISK_EXTRA_BITS = 4;

/** How many bits below the current requirement a challenge may be, so a rise while a buyer solves does not undo the work. */
export const DEMAND_SLACK_BITS = 2;

/** The difficulty a join costs now, from the number of buyers in line and the buyer's risk score. */
export function powDifficultyFor(s: FairnessSettings, queueLength: number, risk = 0): number {
  let d = s.powDifficulty;
  if (queueLength > s.powDemandQueue && s.powDemandDifficulty > 0) {
    const doublings = Math.floor(Math.log2(queueLength / s.powDemandQueue));
    d = Math.max(d, Math.min(s.powMaxDifficulty, s.powDemandDifficulty + doublings));
  }
  if (risk > s.riskExtraPowAbove) d += RISK_EXTRA_BITS;
  return Math.min(28, d);
}

/** What the identity provider said of the buyer: the token's `verified_id` and `risk` claims. */
export interface IdentitySignals {
  verifiedIdentity?: string;
  risk?: number;
}

/** The seats a buyer may hold and buy for the event, and why when that is fewer than maxSeatsPerBuyer. */
export interface SeatLimit {
  allowance: number;
  /** A risky score, or no verified person where the identity provider verifies people; null when the event's limit stands. */
  reason: 'risk' | 'unverified' | null;
}

/** The buyer's limit for the event: unverifiedSeatLimit for an unverified or risky account when it is the smaller. */
export function seatLimit(
  maxSeatsPerBuyer: number,
  s: Pick<FairnessSettings, 'riskExtraPowAbove' | 'unverifiedSeatLimit'>,
  buyer: IdentitySignals,
  verifiesPeople: boolean,
): SeatLimit {
  const why = (buyer.risk ?? 0) > s.riskExtraPowAbove ? 'risk' : verifiesPeople && !buyer.verifiedIdentity ? 'unverified' : null;
  if (!why || s.unverifiedSeatLimit >= maxSeatsPerBuyer) return { allowance: maxSeatsPerBuyer, reason: null };
  return { allowance: s.unverifiedSeatLimit, reason: why };
}

/**
 * The refusal of a request for more seats than the buyer's limit, or null
 * when it fits. A buyer held to unverifiedSeatLimit is told why, since the
 * event itself says maxSeatsPerBuyer.
 */
export function seatLimitRefusal(maxSeatsPerBuyer: number, { allowance, reason }: SeatLimit, requested: number): DomainError | null {
  if (requested <= allowance) return null;
  const message =
    reason === 'unverified'
      ? `an account without a verified identity may take at most ${allowance} seats for this event (${maxSeatsPerBuyer} once verified)`
      : reason === 'risk'
        ? `this account may take at most ${allowance} seats for this event`
        : `at most ${allowance} seats per buyer for this event`;
  return new DomainError('LIMIT_EXCEEDED', message, { maxSeatsPerBuyer: allowance, requested, ...(reason && { reason }) });
}
