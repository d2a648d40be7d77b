import type { NotificationKind } from '../domain/notifications';

export interface RenderedMail {
  subject: string;
  text: string;
}

const money = (cents: unknown) => (typeof cents === 'number' ? `$${(cents / 100).toFixed(2)}` : '');
const list = (v: unknown) => (Array.isArray(v) ? v.join(', ') : '');

/** Plain-text e-mails: every client renders them and they carry no tracking. */
export function renderMail(kind: NotificationKind, p: Record<string, unknown>): RenderedMail {
  switch (kind) {
    case 'order_confirmed':
      return {
        subject: `Your tickets are confirmed — order ${String(p.orderId)}`,
        text: `Order ${String(p.orderId)} is confirmed.\nSeats: ${list(p.seatIds)}\nTotal: ${money(p.amountCents)}\n`,
      };
    case 'hold_reminder':
      return {
        subject: 'One minute left to complete your purchase',
        text: `Your seats ${list(p.seatIds)} are held until ${String(p.expiresAt)}. Complete payment to keep them.\n`,
      };
    case 'hold_expired':
      return {
        subject: 'Your seat hold has expired',
        text: `The hold on ${list(p.seatIds)} ended at ${String(p.expiresAt)} and the seats returned to sale.\n`,
      };
    case 'hold_released':
      return {
        subject: 'Your seats were released',
        text: `You released ${list(p.seatIds)}; they are back on sale.\n`,
      };
    case 'payment_refunded':
      return {
        subject: 'Your payment was refunded',
        text: `We could not confirm ${list(p.seatIds)}, so your payment of ${money(p.amountCents)} was refunded in full.\n`,
      };
    case 'waitlist_offer':
      return {
        subject: 'Seats are available for you',
        text: `Seats returned to sale for event ${String(p.eventId)}. Your offer is valid until ${String(p.expiresAt)}.\n`,
      };
    case 'order_refunded':
      return {
        subject: `Your order ${String(p.orderId)} was refunded`,
        text: `Order ${String(p.orderId)} (seats ${list(p.seatIds)}) was cancelled and ${money(p.amountCents)} was refunded to your card.\n`,
      };
  }
}
