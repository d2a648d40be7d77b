import { ApplicationFailure } from '@temporalio/common';
import { DomainError } from '../domain/errors';

/** Business failures are final: Temporal must not retry them, and their code reaches the API caller. */
export async function asFailure<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof DomainError) {
      throw ApplicationFailure.create({
        type: err.code,
        message: err.message,
        details: [err.details],
        nonRetryable: true,
      });
    }
    throw err;
  }
}
