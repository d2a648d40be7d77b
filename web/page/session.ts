/** What the page remembers per event in this tab: who the buyer is and where their checkout stands. */
export interface HoldInfo {
  holdId: string;
  seatIds: string[];
  expiresAt: string;
  amountCents: number;
}

export interface OrderInfo {
  orderId: string;
  seatIds: string[];
  amountCents: number;
}

export interface Session {
  token?: string;
  buyerId?: string;
  name?: string;
  email?: string;
  admissionToken?: string;
  queued?: boolean;
  waitlisted?: { position: number; quantity: number };
  hold?: HoldInfo;
  order?: OrderInfo;
}

const BUYER_KEY = 'onsale:buyer';

export function loadSession(eventId: string): Session {
  const read = (key: string) => {
    try {
      return JSON.parse(sessionStorage.getItem(key) ?? '{}') as Session;
    } catch {
      return {};
    }
  };
  return { ...read(BUYER_KEY), ...read(`onsale:event:${eventId}`) };
}

export function saveSession(eventId: string, s: Session): void {
  const { token, buyerId, name, email, ...perEvent } = s;
  sessionStorage.setItem(BUYER_KEY, JSON.stringify({ token, buyerId, name, email }));
  sessionStorage.setItem(`onsale:event:${eventId}`, JSON.stringify(perEvent));
}
