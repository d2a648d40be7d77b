/**
 * Production sign-in is the host site's: it hands the page a buyer token (a
 * JWT from the configured issuer) in the URL fragment (`#buyer_token=…`, which
 * never reaches a server) or, when the page is embedded, by postMessage from
 * the embedding window. The page only reads the token's display claims; the
 * API verifies it on every request.
 */
import type { Session } from './session';

export interface HandedBuyer {
  token: string;
  buyerId: string;
  name?: string;
  email?: string;
}

/** The display claims of a JWT, without verifying it (the API does); null when it is not a JWT. */
export function buyerFromToken(token: string): HandedBuyer | null {
  const part = token.split('.')[1];
  if (!part || token.split('.').length !== 3) return null;
  try {
    const json = atob(
      part
        .replace(/-/g, '+')
        .replace(/_/g, '/')
        .padEnd(Math.ceil(part.length / 4) * 4, '='),
    );
    const claims = JSON.parse(json) as { sub?: unknown; name?: unknown; email?: unknown };
    if (typeof claims.sub !== 'string' || !claims.sub) return null;
    return {
      token,
      buyerId: claims.sub,
      ...(typeof claims.name === 'string' && { name: claims.name }),
      ...(typeof claims.email === 'string' && { email: claims.email }),
    };
  } catch {
    return null;
  }
}

/** A token in the address's fragment: taken, then removed from the address bar and the history. */
export function takeFragmentToken(): HandedBuyer | null {
  const m = /(?:^#|&)buyer_token=([^&]+)/.exec(location.hash);
  if (!m) return null;
  history.replaceState(null, '', location.pathname + location.search);
  return buyerFromToken(decodeURIComponent(m[1]!));
}

/** Calls back with each token the embedding window posts ({ type: "onsale:buyer-token", token }). */
export function listenForHandover(onBuyer: (b: HandedBuyer) => void): void {
  if (window.parent === window) return;
  window.addEventListener('message', (e: MessageEvent<unknown>) => {
    if (e.source !== window.parent) return;
    const data = e.data as { type?: unknown; token?: unknown } | null;
    if (!data || data.type !== 'onsale:buyer-token' || typeof data.token !== 'string') return;
    const buyer = buyerFromToken(data.token);
    if (buyer) onBuyer(buyer);
  });
}

export function signedIn(session: Session, b: HandedBuyer): void {
  session.token = b.token;
  session.buyerId = b.buyerId;
  session.name = b.name;
  session.email = b.email;
}
