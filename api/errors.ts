import {
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { checkoutInProgress, DomainError, type ErrorCode, ERROR_STATUS, isErrorCode } from '../domain/errors';

export function errorResponse(c: Context, code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
  const status = ERROR_STATUS[code] as ContentfulStatusCode;
  if (status === 429 || status === 503) {
    const retry = typeof details.retryAfterSeconds === 'number' ? details.retryAfterSeconds : 1;
    c.header('Retry-After', String(Math.max(1, Math.ceil(retry))));
  }
  return c.json({ error: { code, message, details } }, status);
}

/** Maps anything thrown by a handler to the error contract; unknown errors become 500 without leaking internals. */
export function toDomainError(err: unknown): DomainError | null {
  if (err instanceof DomainError) return err;
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure && isErrorCode(cause.type)) {
      const details = (cause.details?.[0] as Record<string, unknown> | undefined) ?? {};
      return new DomainError(cause.type, cause.message, details);
    }
    return new DomainError('UNAVAILABLE', 'the request could not be completed; try again');
  }
  if (err instanceof WorkflowExecutionAlreadyStartedError) {
    return checkoutInProgress();
  }
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    return new DomainError('UNAVAILABLE', 'the request is taking too long; try again', { retryAfterSeconds: 2 });
  }
  if (err instanceof WorkflowNotFoundError) return new DomainError('NOT_FOUND', 'not found');
  if (err instanceof ServiceError) return new DomainError('UNAVAILABLE', 'a backing service is unavailable', { retryAfterSeconds: 2 });
  if (err instanceof HTTPException) {
    if (err.status === 413) return new DomainError('PAYLOAD_TOO_LARGE', 'the request body is too large');
    if (err.status === 400) return new DomainError('VALIDATION_FAILED', err.message || 'malformed request');
    if (err.status === 401) return new DomainError('UNAUTHENTICATED', err.message || 'authentication required');
    if (err.status === 415) return new DomainError('UNSUPPORTED_MEDIA_TYPE', 'send application/json');
  }
  if (err instanceof SyntaxError) return new DomainError('VALIDATION_FAILED', 'the body is not valid JSON');
  return null;
}
