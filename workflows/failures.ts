import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { ErrorCode } from '../domain/errors';

/** A final business failure whose `type` is an API error code. */
export function fail(code: ErrorCode, message: string, details: Record<string, unknown> = {}): ApplicationFailure {
  return ApplicationFailure.create({ type: code, message, details: [details], nonRetryable: true });
}

/**
 * Turns an activity's failure into a failure of the update that awaited it.
 * An update handler must throw an ApplicationFailure: any other error would
 * fail the workflow task instead of answering the caller.
 */
export function updateFailureFrom(err: unknown): ApplicationFailure {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure && cause.nonRetryable && cause.type) {
    return ApplicationFailure.create({
      type: cause.type,
      message: cause.message,
      details: cause.details ?? [],
      nonRetryable: true,
    });
  }
  return fail('UNAVAILABLE', 'the seat service is unavailable; try again shortly');
}
