/**
 * docker-compose.yml cannot be run here (no Docker engine), so its wiring is
 * checked statically: every process gets every variable the code reads,
 * secrets are never literal, and start-up ordering refers to real services.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const root = join(__dirname, '..', '..');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  restart?: string;
  environment?: Record<string, string | number | boolean | null>;
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: unknown;
  volumes?: string[];
}

const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const services = compose.services;

/** Every variable the api and the worker are configured by. */
const APP_VARIABLES = [
  'DATABASE_URL',
  'REDIS_URL',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_UI_URL',
  'STRIPE_SECRET_KEY',
  'STRIPE_API_URL',
  'STRIPE_WEBHOOK_SECRET',
  'PAYMENT_PROVIDER',
  'SMTP_URL',
  'MAIL_FROM',
  'ADMIN_TOKEN',
  'BUYER_TOKEN_SECRET',
  'ADMISSION_TOKEN_SECRET',
  'ONSALE_MODE',
  'API_PORT',
  'LOG_LEVEL',
  'PUBLIC_BASE_URL',
];

const SECRETS = [
  'ADMIN_TOKEN',
  'BUYER_TOKEN_SECRET',
  'ADMISSION_TOKEN_SECRET',
  'STRIPE_WEBHOOK_SECRET',
  'POSTGRES_PASSWORD',
  'POSTGRES_PWD',
];

function dependencies(service: Service): Record<string, string> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([name, d]) => [name, d.condition ?? 'service_started']));
}

function transitiveDependencies(name: string, seen = new Set<string>()): Set<string> {
  for (const dep of Object.keys(dependencies(services[name]!))) {
    if (!seen.has(dep)) {
      seen.add(dep);
      transitiveDependencies(dep, seen);
    }
  }
  return seen;
}

describe('docker-compose.yml', () => {
  test.each(['api', 'worker', 'migrate'])('%s is built from the Dockerfile and defines every app variable', (name) => {
    const service = services[name];
    expect(service).toBeDefined();
    expect(service!.build).toBeDefined();
    const env = service!.environment ?? {};
    const missing = APP_VARIABLES.filter((v) => env[v] === undefined || env[v] === null || String(env[v]) === '');
    expect(missing).toEqual([]);
  });

  test('the Dockerfile builds a Node 20 image that runs TypeScript through tsx', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20-bookworm-slim$/m);
    expect(dockerfile).toMatch(/npm ci/);
    expect(dockerfile).toMatch(/tsx/);
  });

  test('secrets are required from the environment, never written in the file', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (!SECRETS.includes(key)) continue;
        expect({ service: name, key, value }).toEqual({
          service: name,
          key,
          value: expect.stringMatching(/^\$\{[A-Z_]+:\?[^}]+\}$/),
        });
      }
      const url = service.environment?.DATABASE_URL;
      if (url !== undefined) expect(String(url)).toMatch(/^postgres:\/\/onsale:\$\{POSTGRES_PASSWORD:\?[^}]+\}@/);
    }
  });

  test('connection URLs name services defined in the file', () => {
    const env = services.api!.environment!;
    for (const key of ['DATABASE_URL', 'REDIS_URL', 'STRIPE_API_URL', 'SMTP_URL']) {
      const host = new URL(String(env[key]).replace(/\$\{[^}]+\}/g, 'x')).hostname;
      expect({ key, host, defined: host in services }).toEqual({ key, host, defined: true });
    }
    const temporalHost = String(env.TEMPORAL_ADDRESS).split(':')[0]!;
    expect(temporalHost in services).toBe(true);
  });

  test('depends_on refers to defined services with conditions they can meet', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dep, condition] of Object.entries(dependencies(service))) {
        const target = services[dep];
        expect({ service: name, dependsOn: dep, defined: target !== undefined }).toEqual({
          service: name,
          dependsOn: dep,
          defined: true,
        });
        expect(['service_started', 'service_healthy', 'service_completed_successfully']).toContain(condition);
        if (condition === 'service_healthy') {
          expect({ service: dep, healthcheck: target!.healthcheck !== undefined }).toEqual({ service: dep, healthcheck: true });
        }
        if (condition === 'service_completed_successfully') {
          // A one-shot must be allowed to exit: never restarted unconditionally.
          expect(['always', 'unless-stopped']).not.toContain(target!.restart);
        }
      }
      expect(transitiveDependencies(name).has(name)).toBe(false);
    }
  });

  test.each(['api', 'worker'])('%s starts after every backing service and the migrations', (name) => {
    const deps = transitiveDependencies(name);
    for (const backing of ['postgres', 'redis', 'temporal', 'temporal-setup', 'stripe-mock', 'mailpit', 'migrate']) {
      expect({ service: name, dependsOn: backing, present: deps.has(backing) }).toEqual({
        service: name,
        dependsOn: backing,
        present: true,
      });
    }
  });

  test('files mounted from the repository exist', () => {
    for (const service of Object.values(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('./')) expect({ source, exists: existsSync(join(root, source)) }).toEqual({ source, exists: true });
      }
    }
  });

  test('compose and the local dev server register the same search attributes', () => {
    const stack = readFileSync(join(root, 'scripts', 'stack.sh'), 'utf8');
    const local = /TEMPORAL_SEARCH_ATTRIBUTES=\(([^)]*)\)/
      .exec(stack)![1]!
      .trim()
      .split(/\s+/)
      .map((a) => a.split('=')[0]);
    const setup = readFileSync(join(root, 'deploy', 'temporal', 'register-search-attributes.sh'), 'utf8');
    const composed = /^attrs="([^"]*)"/m.exec(setup)![1]!.trim().split(/\s+/);
    expect(composed.sort()).toEqual(local.sort());
  });
});
