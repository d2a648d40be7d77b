/** Opaque page cursors: the last row's sort key (created_at as Postgres prints it, and the id), base64url JSON. */
import { DomainError } from '../domain/errors';

const PG_TIMESTAMPTZ = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;

export interface PagePosition {
  createdAt: string;
  id: string;
}

export function encodeCursor(p: PagePosition): string {
  return Buffer.from(JSON.stringify([p.createdAt, p.id])).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): PagePosition | undefined {
  if (cursor === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      typeof v[0] === 'string' &&
      typeof v[1] === 'string' &&
      PG_TIMESTAMPTZ.test(v[0]) &&
      /^[a-z]{2,4}_[A-Za-z0-9_-]{1,60}$/.test(v[1])
    ) {
      return { createdAt: v[0], id: v[1] };
    }
  } catch {
    // falls through to the validation error
  }
  throw new DomainError('VALIDATION_FAILED', 'invalid query: cursor is not one this API returned', {
    issues: [{ path: 'query.cursor', message: 'not a cursor' }],
  });
}
