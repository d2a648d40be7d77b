/**
 * Creates and opens a demo event on the running API, so `./onsale start`
 * ends with something to buy. Prints the event's page.
 */
const api = `http://127.0.0.1:${process.env.API_PORT ?? 3000}`;
const base = process.env.PUBLIC_BASE_URL ?? api;
const admin = process.env.ADMIN_TOKEN;

async function post(path: string, body?: unknown): Promise<any> {
  const res = await fetch(api + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function main(): Promise<void> {
  if (!admin) throw new Error('ADMIN_TOKEN is not set: run through ./onsale start');
  const { eventId, seatCount } = await post('/v1/admin/events', {
    name: 'The Demo Tour — Arena Night',
    holdSeconds: 300,
    maxSeatsPerBuyer: 6,
    waitingRoom: { enabled: true, maxActiveCheckouts: 200, admitPerMinute: 600, admissionWindowSeconds: 300 },
    sections: [
      { id: 'FLR', name: 'Floor', rows: 20, seatsPerRow: 40, priceCents: 18900 },
      { id: 'L100', name: 'Lower Bowl', rows: 25, seatsPerRow: 60, priceCents: 11900 },
      { id: 'U300', name: 'Upper Deck', rows: 30, seatsPerRow: 80, priceCents: 5900 },
    ],
  });
  await post(`/v1/admin/events/${eventId}/open`);
  process.stdout.write(`demo event ${eventId} (${seatCount} seats) is on sale: ${base}/events/${eventId}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`demo event not created: ${err.message}\n`);
  process.exit(1);
});
