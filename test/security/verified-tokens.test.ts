/**
 * The cache of verified buyer tokens: a hit never outlives the token's own
 * expiry or the cache's time limit, it holds a bounded number of tokens, and
 * through createBuyerTokens a forged or expired token is never accepted
 * because a valid one was seen before.
 */
import { SignJWT } from 'jose';
import { createBuyerTokens, VerifiedTokens } from '../../services/buyer-tokens';

const buyer = { buyerId: 'byr_cache1', name: 'Cache Buyer', email: 'cache@buyers.onsale.test' };

test('an entry lasts until the token expires or the time limit, whichever is sooner', () => {
  const cache = new VerifiedTokens(10, 60_000);
  const now = 1_800_000_000_000;
  cache.set('a', buyer, now / 1000 + 5, now); // expires in 5 s
  cache.set('b', buyer, now / 1000 + 3600, now); // expires in an hour
  cache.set('c', buyer, now / 1000 - 1, now); // already expired: not kept
  expect(cache.get('a', now + 4_999)).toEqual(buyer);
  expect(cache.get('a', now + 5_000)).toBeNull();
  expect(cache.get('b', now + 59_999)).toEqual(buyer);
  expect(cache.get('b', now + 60_000)).toBeNull();
  expect(cache.get('c', now)).toBeNull();
});

test('the cache holds at most its capacity, oldest out first', () => {
  const cache = new VerifiedTokens(2, 60_000);
  const now = Date.now();
  for (const t of ['x', 'y', 'z']) cache.set(t, buyer, undefined, now);
  expect(cache.get('x', now)).toBeNull();
  expect(cache.get('y', now)).toEqual(buyer);
  expect(cache.get('z', now)).toEqual(buyer);
});

test('verification through the cache still refuses tampered, foreign and expired tokens', async () => {
  const secret = 'a-test-secret-of-enough-length-0123456789';
  const tokens = createBuyerTokens({ mode: 'development', secret, issuer: 'onsale-test' });
  const good = await tokens.issue!(buyer);
  expect(await tokens.verify(good)).toEqual(buyer);
  expect(await tokens.verify(good)).toEqual(buyer); // from the cache
  const [h, p, s] = good.split('.');
  expect(await tokens.verify(`${h}.${p}.${s!.slice(0, -2)}AA`)).toBeNull();
  const foreign = await createBuyerTokens({ mode: 'development', secret: `${secret}-other`, issuer: 'onsale-test' }).issue!(buyer);
  expect(await tokens.verify(foreign)).toBeNull();
  const expired = await new SignJWT({ name: buyer.name, email: buyer.email })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(buyer.buyerId)
    .setIssuer('onsale-test')
    .setAudience('onsale-api')
    .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
    .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
    .sign(new TextEncoder().encode(secret));
  expect(await tokens.verify(expired)).toBeNull();
});
