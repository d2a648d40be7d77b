/** The API as Node's HTTP server runs it: the polls a crowd repeats from memory first (api/poll-fast-path.ts), everything else through the app. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { tracingEnabled } from '../platform/tracing';
import { createApp } from './app';
import { type ApiDeps, buildServices } from './deps';
import { shedLoad, shedOptionsFrom } from './middleware/shed';
import { pollAnswerHeaders, pollFastPath } from './poll-fast-path';

export interface ApiListener {
  app: ReturnType<typeof createApp>;
  listener: (req: IncomingMessage, res: ServerResponse) => void;
  /** How many requests the fast path answered (the rest went to the app). */
  readonly fastAnswers: number;
}

/** The app and its request listener, sharing one set of services and one load shedder. */
export async function createApiListener(deps: ApiDeps, opts: { fastPath?: boolean } = {}): Promise<ApiListener> {
  const services = buildServices(deps);
  const shed = shedLoad(shedOptionsFrom(deps.config));
  const app = createApp(deps, services, shed);
  const viaApp = getRequestListener(app.fetch);
  // With tracing on, every request takes the app's way, so that each one gets its span.
  const useFast = (opts.fastPath ?? true) && !tracingEnabled(deps.config);
  const fast = useFast ? pollFastPath(services, shed, await pollAnswerHeaders(app)) : null;
  const out = {
    app,
    fastAnswers: 0,
    listener: (req: IncomingMessage, res: ServerResponse) => {
      if (fast?.(req, res)) out.fastAnswers++;
      else void viaApp(req, res);
    },
  };
  return out;
}
