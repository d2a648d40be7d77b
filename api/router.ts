import { OpenAPIHono } from '@hono/zod-openapi';
import { DomainError } from '../domain/errors';
import type { AppEnv } from './deps';

/** A resource router whose failed input validation answers 400 VALIDATION_FAILED with the issues. */
export function router() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const issues = result.error.issues.map((i) => ({ path: [result.target, ...i.path].join('.'), message: i.message }));
        throw new DomainError('VALIDATION_FAILED', `invalid ${result.target}: ${issues[0]?.path} ${issues[0]?.message}`, {
          issues,
        });
      }
    },
  });
}
