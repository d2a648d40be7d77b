/**
 * The stable, documented set of error codes of the public API (see API.md).
 * Workflows and activities raise ApplicationFailure with `type` set to one of
 * these codes; the API maps them to the HTTP status below.
 */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  PAYMENT_DECLINED: 402,
  FORBIDDEN: 403,
  NOT_ADMITTED: 403,
  NOT_FOUND: 404,
  HOLD_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  EVENT_NOT_ON_SALE: 409,
  SEATS_UNAVAILABLE: 409,
  CHECKOUT_IN_PROGRESS: 409,
  ORDER_NOT_CONFIRMED: 409,
  ALREADY_QUEUED: 409,
  SOLD_OUT: 409,
  NOT_SOLD_OUT: 409,
  WAITING_ROOM_DISABLED: 409,
  HOLD_EXPIRED: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  LIMIT_EXCEEDED: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_STATUS, value);
}

/** An error meant for the API caller: code, message and optional details. */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** One checkout per buyer and event: this buyer's checkout still holds seats (or is finishing with them). */
export function checkoutInProgress(details: Record<string, unknown> = {}): DomainError {
  return new DomainError('CHECKOUT_IN_PROGRESS', 'this buyer already has a checkout in progress for this event', details);
}
