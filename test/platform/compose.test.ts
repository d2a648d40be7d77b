/**
 * docker-compose.yml cannot be run here (no Docker engine), so its wiring is
 * checked statically: the one-machine cluster topology (two API processes
 * behind a load balancer, two workers, the real Temporal server with its
 * schema job and UI, Postgres, Redis, stripe-mock, Mailpit), image tags in
 * each registry's naming scheme and at the versions the native topology
 * builds, every variable the configuration schema reads, secrets never
 * literal, and start-up ordering that refers to real services.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const root = join(__dirname, '..', '..');
const read = (...p: string[]) => readFileSync(join(root, ...p), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  restart?: string;
  environment?: Record<string, string | number | boolean | null>;
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: unknown;
  volumes?: string[];
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const byCommand = (entry: string) =>
  Object.entries(services)
    .filter(([, s]) => s.build !== undefined && (s.command ?? []).join(' ').includes(entry))
    .map(([name]) => name)
    .sort();
const API = byCommand('api/server');
const WORKERS = byCommand('workers/main');
const APP = [...API, ...WORKERS];

/** The variables platform/config.ts reads, and whether each may be left unset. */
function configVariables(): { name: string; required: boolean; optionalNoDefault: boolean }[] {
  const source = read('platform', 'config.ts');
  const body = source.slice(source.indexOf('z\n  .object({'), source.indexOf('.superRefine'));
  const vars = [...body.matchAll(/^ {4}([A-Z][A-Z0-9_]+): (.+)$/gm)].map(([, name, rule]) => ({
    name: name!,
    required: !/\.default\(|\.optional\(\)/.test(rule!),
    optionalNoDefault: /\.optional\(\)/.test(rule!) && !/\.default\(/.test(rule!),
  }));
  return vars;
}

/** Variables app services may set beyond the schema, each read elsewhere. */
const EXTRA_APP_VARIABLES = ['REDIS_CLUSTER_NODES', 'WORKFLOW_BUNDLE_PATH', 'NODE_ENV'];

const SECRETS = [
  'ADMIN_TOKEN',
  'BUYER_TOKEN_SECRET',
  'ADMISSION_TOKEN_SECRET',
  'STRIPE_WEBHOOK_SECRET',
  'POSTGRES_PASSWORD',
  'POSTGRES_PWD',
];

/** Pinned versions of the native topology (scripts/lib/common.sh), without the leading v. */
function pinned(name: string): string {
  const m = new RegExp(`^${name}=v?([0-9.]+)`, 'm').exec(read('scripts', 'lib', 'common.sh'));
  if (!m) throw new Error(`${name} not found in scripts/lib/common.sh`);
  return m[1]!;
}

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

const imageOf = (name: string) => {
  const image = services[name]?.image;
  if (!image) throw new Error(`service ${name} has no image`);
  const at = image.lastIndexOf(':');
  return { repo: image.slice(0, at), tag: image.slice(at + 1) };
};

describe('docker-compose.yml topology', () => {
  test('two API processes, two workers and a load balancer in front of the API', () => {
    expect(API).toHaveLength(2);
    expect(WORKERS).toHaveLength(2);
    const lb = services.lb!;
    expect(imageOf('lb').repo).toBe('haproxy');
    // The load balancer sends traffic to exactly the API services, on their port.
    const targets = Object.entries(lb.environment ?? {})
      .filter(([k]) => /^API_\d+$/.test(k))
      .map(([, v]) => String(v));
    expect(targets.map((t) => t.split(':')[0]).sort()).toEqual(API);
    for (const t of targets) expect(t.split(':')[1]).toBe(String(services[t.split(':')[0]!]!.environment!.API_PORT));
    for (const api of API) expect(dependencies(lb)[api]).toBe('service_healthy');
    // Buyers reach the API only through the load balancer.
    for (const api of API) expect((services[api] as { ports?: unknown }).ports).toBeUndefined();
  });

  test('the real Temporal server on Postgres, with a schema job, a setup job and the UI', () => {
    expect(imageOf('temporal').repo).toBe('temporalio/server');
    expect(services.temporal!.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgres' });
    expect(imageOf('temporal-schema').repo).toBe('temporalio/admin-tools');
    expect(dependencies(services.temporal!)['temporal-schema']).toBe('service_completed_successfully');
    expect(imageOf('temporal-setup').repo).toBe('temporalio/admin-tools');
    expect(imageOf('temporal-ui').repo).toBe('temporalio/ui');
    const schema = read('deploy', 'temporal', 'setup-schema.sh');
    // Both stores, each from the image's versioned schema directory.
    expect(schema).toMatch(/schema\/postgresql\/v12/);
    expect(schema).toMatch(/\$dir\/versioned/);
    expect(schema).toMatch(/^setup \S+ temporal$/m);
    expect(schema).toMatch(/^setup \S+ visibility$/m);
    expect(schema).toMatch(/setup-schema -v 0\.0/);
    expect(schema).toMatch(/update-schema -d/);
  });

  test('the backing services are all there', () => {
    const expected = {
      postgres: 'postgres',
      redis: 'redis',
      'stripe-mock': 'stripe/stripe-mock',
      mailpit: 'axllent/mailpit',
    };
    for (const [name, repo] of Object.entries(expected)) expect({ name, repo: imageOf(name).repo }).toEqual({ name, repo });
    expect(services.migrate?.build).toBeDefined();
  });
});

describe('docker-compose.yml images', () => {
  test('tags follow each registry naming scheme, never latest', () => {
    const schemes: Record<string, RegExp> = {
      postgres: /^\d+(\.\d+)?(-(bookworm|alpine[\d.]*))?$/,
      redis: /^\d+(\.\d+){0,2}(-(bookworm|alpine[\d.]*))?$/,
      haproxy: /^\d+\.\d+(\.\d+)?(-(bookworm|alpine[\d.]*))?$/,
      'temporalio/server': /^\d+\.\d+\.\d+$/,
      // Admin-tools images of the 1.2x servers name the tctl and CLI they carry.
      'temporalio/admin-tools': /^\d+\.\d+\.\d+(-tctl-\d+\.\d+\.\d+-cli-\d+\.\d+\.\d+)?$/,
      'temporalio/ui': /^\d+\.\d+\.\d+$/,
      'stripe/stripe-mock': /^v\d+\.\d+\.\d+$/,
      'axllent/mailpit': /^v\d+\.\d+\.\d+$/,
    };
    for (const name of Object.keys(services)) {
      if (services[name]!.build !== undefined) continue;
      const { repo, tag } = imageOf(name);
      expect({ name, repo, known: repo in schemes }).toEqual({ name, repo, known: true });
      expect({ name, tag, ok: schemes[repo]!.test(tag) }).toEqual({ name, tag, ok: true });
    }
  });

  test('Temporal images match the versions the native topology builds', () => {
    const server = pinned('TEMPORAL_SERVER_VERSION');
    expect(imageOf('temporal').tag).toBe(server);
    expect(imageOf('temporal-schema').tag.split('-')[0]).toBe(server);
    expect(imageOf('temporal-setup').tag.split('-')[0]).toBe(server);
    expect(imageOf('temporal-ui').tag).toBe(pinned('TEMPORAL_UI_SERVER_VERSION'));
    expect(imageOf('stripe-mock').tag).toBe(`v${pinned('STRIPE_MOCK_VERSION')}`);
    expect(imageOf('mailpit').tag).toBe(`v${pinned('MAILPIT_VERSION')}`);
    // temporalio/auto-setup is no longer built.
    expect(Object.values(services).some((s) => s.image?.startsWith('temporalio/auto-setup'))).toBe(false);
  });
});

describe('docker-compose.yml configuration', () => {
  const vars = configVariables();

  test('the configuration schema is where the variables are read', () => {
    expect(vars.length).toBeGreaterThan(20);
    expect(vars.map((v) => v.name)).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'TEMPORAL_ADDRESS', 'ADMIN_TOKEN']));
  });

  test.each([...APP, 'migrate'])('%s is built from the Dockerfile and sets every variable the schema reads', (name) => {
    const service = services[name]!;
    expect(service.build).toBeDefined();
    const env = service.environment ?? {};
    const isSet = (v: string) => env[v] !== undefined && env[v] !== null && String(env[v]) !== '';
    // Optional variables without a default (Temporal Cloud credentials, a JWKS URL)
    // must stay unset rather than empty: an empty value fails validation.
    const missing = vars.filter((v) => !v.optionalNoDefault && !isSet(v.name) && !/^\$\{[A-Z_]+:-\}$/.test(String(env[v.name] ?? 'x')));
    expect(missing.map((v) => v.name)).toEqual([]);
    const unknown = Object.keys(env).filter((k) => !vars.some((v) => v.name === k) && !EXTRA_APP_VARIABLES.includes(k));
    expect(unknown).toEqual([]);
  });

  test('.env.example lists every variable the schema reads and every secret compose requires', () => {
    const example = read('.env.example');
    const listed = new Set([...example.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    const missing = vars.map((v) => v.name).filter((n) => !listed.has(n));
    expect(missing).toEqual([]);
    const required = new Set([...read('docker-compose.yml').matchAll(/\$\{([A-Z_]+):\?/g)].map((m) => m[1]));
    expect([...required].filter((n) => !listed.has(n))).toEqual([]);
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
    for (const name of APP) {
      const env = services[name]!.environment!;
      for (const key of ['DATABASE_URL', 'REDIS_URL', 'STRIPE_API_URL', 'SMTP_URL']) {
        const host = new URL(String(env[key]).replace(/\$\{[^}]+\}/g, 'x')).hostname;
        expect({ key, host, defined: host in services }).toEqual({ key, host, defined: true });
      }
      expect(String(env.TEMPORAL_ADDRESS).split(':')[0]).toBe('temporal');
      // Behind one proxy, the API trusts exactly one X-Forwarded-For hop.
      expect(String(env.TRUST_PROXY_HOPS)).toBe('1');
    }
  });
});

describe('docker-compose.yml start-up order', () => {
  test('depends_on refers to defined services with conditions they can meet', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dep, condition] of Object.entries(dependencies(service))) {
        const target = services[dep];
        expect({ service: name, dependsOn: dep, defined: target !== undefined }).toEqual({ service: name, dependsOn: dep, defined: true });
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

  test.each(APP)('%s starts after every backing service, the schema, the namespace and the migrations', (name) => {
    const deps = transitiveDependencies(name);
    for (const backing of ['postgres', 'redis', 'temporal-schema', 'temporal', 'temporal-setup', 'stripe-mock', 'mailpit', 'migrate']) {
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
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  test('multi-stage on the Node LTS line the native topology runs (NODE_VERSION), as package.json and .nvmrc say', () => {
    const stages = [...dockerfile.matchAll(/^FROM (\S+)(?: AS (\S+))?$/gm)];
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const node = pinned('NODE_VERSION');
    const major = node.split('.')[0]!;
    const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1] ?? stages[0]![1]!;
    expect(base).toMatch(new RegExp(`^node:${major}(\\.\\d+)*-(bookworm|trixie)-slim$`));
    const pkg = JSON.parse(read('package.json')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(`>=${major}`);
    expect(read('.nvmrc').trim()).toBe(node);
  });

  test('compiles TypeScript and bundles the workflows at build time; runs compiled JavaScript', () => {
    expect(dockerfile).toMatch(/tsc -p tsconfig\.build\.json/);
    expect(dockerfile).toMatch(/scripts\/bundle-workflows\.ts/);
    expect(read('scripts', 'bundle-workflows.ts')).toMatch(/bundleWorkflowCode\(/);
    expect(dockerfile).toMatch(/WORKFLOW_BUNDLE_PATH=\S+workflow-bundle\.js/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node"\]$/m);
    for (const name of [...APP, 'migrate']) expect(services[name]!.command![0]).toMatch(/^dist\/.+\.js$/);
  });

  test('files read at run time beside the code are copied into the image', () => {
    expect(dockerfile).toMatch(/cp -r db\/migrations dist\/db\/migrations/);
    expect(dockerfile).toMatch(/cp -r web\/\. dist\/web\//);
  });
});

describe('Temporal and load balancer settings shared by compose and scripts/cluster.sh', () => {
  test('compose, the cluster and the local dev server register the same search attributes', () => {
    const local = /TEMPORAL_SEARCH_ATTRIBUTES=\(([^)]*)\)/
      .exec(read('scripts', 'stack.sh'))![1]!
      .trim()
      .split(/\s+/)
      .map((a) => a.split('=')[0]);
    const composed = /^attrs="([^"]*)"/m
      .exec(read('deploy', 'temporal', 'register-search-attributes.sh'))![1]!
      .trim()
      .split(/\s+/);
    expect(composed.sort()).toEqual(local.sort());
    expect(read('scripts', 'cluster.sh')).toMatch(/TEMPORAL_SEARCH_ATTRIBUTES\[@\]/);
  });

  test('dynamic config turns on what the API and workers use', () => {
    const dc = parse(read('deploy', 'temporal', 'dynamicconfig', 'onsale.yaml')) as Record<string, { value: unknown }[]>;
    expect(dc['frontend.enableUpdateWorkflowExecution']?.[0]?.value).toBe(true);
    expect(dc['frontend.enableExecuteMultiOperation']?.[0]?.value).toBe(true);
    expect(dc['system.enableActivityEagerExecution']?.[0]?.value).toBe(true);
    expect(dc['limit.maxIDLength']?.[0]?.value).toBe(255);
  });

  test('the cluster server config is a template with configurable shards, on its own ports', () => {
    const config = read('deploy', 'temporal', 'config', 'onsale.yaml');
    expect(config.split('\n')[0]).toBe('# enable-template');
    expect(config).toMatch(/numHistoryShards: \{\{ default "4" \(env "ONSALE_TEMPORAL_HISTORY_SHARDS"\) \}\}/);
    expect(config).toMatch(/pluginName: postgres12/);
    const grpc = [...config.matchAll(/grpcPort: (?:\{\{ default "(\d+)".*\}\}|(\d+))/g)].map((m) => Number(m[1] ?? m[2]));
    expect(grpc).toHaveLength(4);
    // The dev server's ports (scripts/stack.sh) stay free, so both topologies run side by side.
    const stack = read('scripts', 'stack.sh');
    const devPorts = [...stack.matchAll(/^[A-Z_]+_PORT=(\d+)$/gm)].map((m) => Number(m[1]));
    expect(grpc.filter((p) => devPorts.includes(p))).toEqual([]);
  });

  test('HAProxy checks the API readiness endpoint and takes its replicas from the environment', () => {
    const cfg = read('deploy', 'haproxy', 'onsale.cfg');
    expect(cfg).toMatch(/http-check send meth GET uri \/readyz/);
    expect([...cfg.matchAll(/^\s*server \S+ "\$\{(API_\d+)\}"/gm)].map((m) => m[1])).toEqual(['API_1', 'API_2']);
    expect(cfg).toMatch(/option forwardfor/);
  });
});
