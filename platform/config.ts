/**
 * Configuration from the environment, validated once at start-up.
 * A bad value stops the process with one line naming the variable.
 */
import { z } from 'zod';

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');

const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL with scheme ${protocols.join(' or ')}` },
  );

const secret = z.string().min(16, 'must be at least 16 characters');
const port = z.coerce.number().int().min(1).max(65535);
const publishableKey = z.string().regex(/^pk_(test|live)_[A-Za-z0-9]+$/, 'must look like pk_test_… or pk_live_…');
const sampler = z.enum([
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
]);
const ratio = z.coerce.number().min(0, 'must be a ratio from 0 to 1').max(1, 'must be a ratio from 0 to 1');
/** OpenTelemetry's rule for its variables: an empty value is the same as none. */
const unsetIfEmpty = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema);
const hostPortList = z.string().regex(/^\s*[^\s,]+:\d{1,5}\s*(,\s*[^\s,]+:\d{1,5}\s*)*$/, 'must be host:port[,host:port...]');

const schema = z
  .object({
    ONSALE_MODE: z.enum(['development', 'production']).default('development'),
    LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),

    DATABASE_URL: url(['postgres:', 'postgresql:']),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(20),
    REDIS_URL: url(['redis:', 'rediss:']),
    /** Seed nodes of a Redis Cluster (host:port,...); when set, the app talks to the cluster. */
    REDIS_CLUSTER_NODES: hostPortList.optional(),

    TEMPORAL_ADDRESS: z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port'),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('onsale'),
    TEMPORAL_TLS: bool.default(false),
    /** Temporal's own names (as the temporal CLI and Temporal Cloud documentation use them). */
    TEMPORAL_API_KEY: z.string().min(1).optional(),
    TEMPORAL_TLS_CLIENT_CERT_PATH: z.string().min(1).optional(),
    TEMPORAL_TLS_CLIENT_KEY_PATH: z.string().min(1).optional(),
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: z.string().min(1).optional(),
    TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
    /** @deprecated aliases of TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH, still read. */
    TEMPORAL_TLS_CERT_PATH: z.string().min(1).optional(),
    TEMPORAL_TLS_KEY_PATH: z.string().min(1).optional(),
    TEMPORAL_UI_URL: url(['http:', 'https:']).default('http://127.0.0.1:8233'),
    /** A workflow bundle built ahead of time (scripts/bundle-workflows.ts); unset, the worker bundles at start. */
    WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),

    PAYMENT_PROVIDER: z.enum(['stripe', 'test-cards']).optional(),
    STRIPE_SECRET_KEY: z.string().regex(/^(sk|rk)_(test|live)_[A-Za-z0-9]+$/, 'must look like sk_test_… or sk_live_…'),
    STRIPE_API_URL: url(['http:', 'https:']).optional(),
    STRIPE_WEBHOOK_SECRET: z.string().regex(/^whsec_[A-Za-z0-9]+$/, 'must look like whsec_…'),
    /** Stripe.js on the buyer page in production (the Payment Element); public by design. */
    STRIPE_PUBLISHABLE_KEY: publishableKey.optional(),
    PAYMENT_CURRENCY: z
      .string()
      .regex(/^[a-z]{3}$/)
      .default('usd'),

    SMTP_URL: url(['smtp:', 'smtps:']),
    MAIL_FROM: z.string().min(3).default('onsale <tickets@onsale.test>'),

    ADMIN_TOKEN: secret,
    BUYER_TOKEN_SECRET: secret,
    BUYER_TOKEN_ISSUER: z.string().min(1).default('onsale-dev'),
    BUYER_JWKS_URL: url(['https:', 'http:']).optional(),
    /**
     * The identity provider puts a verified_id claim in the token of every person it has verified, so an account
     * without one is unverified, and an event's unverifiedSeatLimit applies to it.
     */
    BUYER_TOKEN_VERIFIES_PEOPLE: bool.default(false),
    ADMISSION_TOKEN_SECRET: secret,

    API_HOST: z.string().min(1).default('127.0.0.1'),
    API_PORT: port.default(3000),
    PUBLIC_BASE_URL: url(['http:', 'https:']).optional(),
    CORS_ORIGINS: z.string().default(''),
    /** Proxies in front of the API whose X-Forwarded-For entries are trusted (0: use the socket address). */
    TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(5).default(0),
    BODY_LIMIT_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(10_000_000)
      .default(64 * 1024),

    /** Grace added to a hold's expiry in Postgres so a payment started just before the timer fires can finish. */
    HOLD_PAYMENT_GRACE_SECONDS: z.coerce.number().int().min(0).max(600).default(30),

    /** Load shedding (api/middleware/shed.ts): requests admitted at once per process, 0 for no bound. */
    SHED_MAX_IN_FLIGHT: z.coerce.number().int().min(0).default(1024),
    /** Event-loop lag (ms) past which new requests are shed, 0 for no check. */
    SHED_MAX_LAG_MS: z.coerce.number().int().min(0).default(1000),
    SHED_RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).max(60).default(1),

    /**
     * The worker's Prometheus endpoint (business metrics and the Temporal runtime's); never the public API port.
     * Off (0) unless set, because several workers share one host in the cluster rehearsal: give each its own.
     */
    WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
    WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
    /** Where the Temporal runtime's own exporter listens (loopback; re-served by the worker's endpoint); default the next port. */
    TEMPORAL_METRICS_PORT: port.optional(),

    /**
     * OpenTelemetry tracing (platform/tracing.ts), under the specification's own names. Off unless an OTLP
     * endpoint is set; spans go over OTLP/HTTP (JSON). The traces endpoint is used as given, the base one
     * gets `/v1/traces` appended. As the specification says, an empty value counts as unset.
     */
    OTEL_EXPORTER_OTLP_ENDPOINT: unsetIfEmpty(url(['http:', 'https:']).optional()),
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: unsetIfEmpty(url(['http:', 'https:']).optional()),
    OTEL_SDK_DISABLED: unsetIfEmpty(bool.default(false)),
    OTEL_SERVICE_NAME: unsetIfEmpty(z.string().min(1).max(255).optional()),
    OTEL_TRACES_SAMPLER: unsetIfEmpty(sampler.default('parentbased_always_on')),
    /** The ratio of the *traceidratio samplers. */
    OTEL_TRACES_SAMPLER_ARG: unsetIfEmpty(ratio.optional()),
  })
  .superRefine((c, ctx) => {
    if (c.ONSALE_MODE === 'production' && !c.BUYER_JWKS_URL) {
      ctx.addIssue({ code: 'custom', path: ['BUYER_JWKS_URL'], message: 'is required in production mode' });
    }
    if (c.ONSALE_MODE === 'production' && !c.STRIPE_PUBLISHABLE_KEY) {
      ctx.addIssue({ code: 'custom', path: ['STRIPE_PUBLISHABLE_KEY'], message: 'is required in production mode (the payment form)' });
    }
    const live = (k: string | undefined) => k?.includes('_live_');
    if (c.STRIPE_PUBLISHABLE_KEY && live(c.STRIPE_PUBLISHABLE_KEY) !== live(c.STRIPE_SECRET_KEY)) {
      ctx.addIssue({ code: 'custom', path: ['STRIPE_PUBLISHABLE_KEY'], message: 'must be live or test like STRIPE_SECRET_KEY' });
    }
    if (c.OTEL_TRACES_SAMPLER_ARG !== undefined && !c.OTEL_TRACES_SAMPLER.endsWith('traceidratio')) {
      ctx.addIssue({ code: 'custom', path: ['OTEL_TRACES_SAMPLER_ARG'], message: 'is only read by the traceidratio samplers' });
    }
    const cert = c.TEMPORAL_TLS_CLIENT_CERT_PATH ?? c.TEMPORAL_TLS_CERT_PATH;
    const key = c.TEMPORAL_TLS_CLIENT_KEY_PATH ?? c.TEMPORAL_TLS_KEY_PATH;
    if (Boolean(cert) !== Boolean(key)) {
      ctx.addIssue({
        code: 'custom',
        path: [cert ? 'TEMPORAL_TLS_CLIENT_KEY_PATH' : 'TEMPORAL_TLS_CLIENT_CERT_PATH'],
        message: 'is required with its pair (mTLS needs both the client certificate and its key)',
      });
    }
  });

export type Config = z.infer<typeof schema> & { PAYMENT_PROVIDER: 'stripe' | 'test-cards' };

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses the environment; throws ConfigError whose message names the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = schema.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    const shown = issue.code === 'invalid_type' && env[name] === undefined ? 'is required' : issue.message;
    throw new ConfigError(`invalid configuration: ${name} ${shown}`);
  }
  const c = result.data;
  // Live keys always go to Stripe; development emulates Stripe's test cards over stripe-mock.
  const provider = c.PAYMENT_PROVIDER ?? (c.ONSALE_MODE === 'production' ? 'stripe' : 'test-cards');
  return { ...c, PAYMENT_PROVIDER: provider };
}

/** For process entry points: print the one-line error and exit(2). */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
