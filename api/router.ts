import { OpenAPIHono } from '@hono/zod-openapi';
import { DomainError } from '../domain/errors';
import type { AppEnv } from './deps';

/** A request part failed its schema: 400 VALIDATION_FAILED naming every issue. */
export function validationFailed(target: string, zodIssues: readonly { path: PropertyKey[]; message: string }[]): never {
  const issues = zodIssues.map((i) => ({ path: [target, ...i.path.map(String)].join('.'), message: i.message }));
  throw new DomainError('VALIDATION_FAILED', `invalid ${target}: ${issues[0]?.path} ${issues[0]?.message}`, { issues });
}

/** A resource router whose failed input validation answers 400 VALIDATION_FAILED with the issues. */
export function router() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) validationFailed(result.target, result.error.issues);
    },
  });
}
