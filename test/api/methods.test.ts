/**
 * A known path answers an unsupported method with 405 and the methods it does
 * support in `Allow`; an unknown path stays 404. Over real HTTP.
 */
import { type RunningApi, startApi, testConfig } from '../../harness/stack';
import { errorOf, request } from '../support/http';

const config = testConfig();
let api: RunningApi;

beforeAll(async () => {
  api = await startApi(config);
});
afterAll(async () => {
  await api?.stop();
});

test.each([
  ['DELETE', '/v1/events/evt_abcdefgh/hold', ['OPTIONS', 'POST']],
  ['PUT', '/v1/events/evt_abcdefgh', ['GET', 'HEAD', 'OPTIONS']],
  ['POST', '/v1/orders/ord_abc', ['GET', 'HEAD', 'OPTIONS']],
  ['GET', '/v1/admin/events/evt_abcdefgh/open', ['OPTIONS', 'POST']],
  ['PATCH', '/healthz', ['GET', 'HEAD', 'OPTIONS']],
])('%s %s is 405 with Allow', async (method, path, allow) => {
  const r = await request(api.url, method, path, { token: config.ADMIN_TOKEN });
  expect(r.status).toBe(405);
  expect(r.headers.get('allow')).toBe(allow.join(', '));
  expect(errorOf(r)).toMatchObject({
    code: 'METHOD_NOT_ALLOWED',
    details: { allow },
  });
});

test('OPTIONS on a known path lists its methods; unknown paths stay 404', async () => {
  // Under /v1 an OPTIONS request is a CORS preflight, answered by the CORS middleware.
  const options = await request(api.url, 'OPTIONS', '/readyz');
  expect(options.status).toBe(204);
  expect(options.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  const unknown = await request(api.url, 'DELETE', '/v1/nothing/here');
  expect(unknown.status).toBe(404);
  expect(errorOf(unknown)?.code).toBe('NOT_FOUND');
});
