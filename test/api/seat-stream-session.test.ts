/**
 * One seat stream's session against a stand-in Node response: frames go to
 * the response as they come, a client that stops reading has frames skipped
 * (never queued without bound) and is caught up from the change log once its
 * socket drains, a client that never drains is cut, and closing unsubscribes.
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { MAX_BACKLOG_BYTES, SnapshotBatcher, STUCK_MS, StreamSession } from '../../api/routes/stream';
import { changesFrame, type SeatFanout, type SeatListener } from '../../api/seat-fanout';
import { createLogger } from '../../platform/logger';
import type { SeatCache } from '../../services/seat-cache';

class FakeResponse extends EventEmitter {
  headersSent = true;
  destroyed = false;
  writableLength = 0;
  readonly written: string[] = [];
  write(bytes: Uint8Array): boolean {
    this.written.push(Buffer.from(bytes).toString('utf8'));
    return true;
  }
  destroy(): this {
    this.destroyed = true;
    return this;
  }
}

const change = (version: number) => JSON.stringify({ version, changes: [['A-1-1', version % 2 ? 'held' : 'available', version]] });
const frame = (version: number) => changesFrame(change(version), version);
const flush = () => new Promise((r) => setImmediate(r));

function setUp() {
  const res = new FakeResponse();
  const replays: number[] = [];
  const log = [5, 6, 7, 8, 9].map((version) => ({ raw: change(version), version }));
  const seatCache = {
    changesSince: async (_eventId: string, from: number) => {
      replays.push(from);
      return log.filter((m) => m.version > from);
    },
    snapshot: async () => '{"version":5,"seats":[]}',
  } as unknown as SeatCache;
  let listener: SeatListener | null = null;
  let unsubscribed = 0;
  const fanout = {
    subscribe: async (_eventId: string, l: SeatListener) => {
      listener = l;
      return () => unsubscribed++;
    },
  } as unknown as SeatFanout;
  const session = new StreamSession(
    { seatCache, logger: createLogger('test', 'silent') },
    'evt_session00000001',
    new SnapshotBatcher(() => seatCache.snapshot('evt_session00000001')),
  );
  const controller = { close: () => undefined } as unknown as ReadableStreamDefaultController<Uint8Array>;
  const ended = session.run(controller, res as unknown as ServerResponse, fanout, null);
  return { res, session, ended, replays, listener: () => listener!, unsubscribed: () => unsubscribed };
}

test('frames go straight to the response after the retry hint and the snapshot', async () => {
  const { res, listener } = setUp();
  await flush();
  expect(res.written[0]).toMatch(/^retry: \d+\n\n$/);
  expect(res.written[1]).toBe('id: 5\nevent: snapshot\ndata: {"version":5,"seats":[]}\n\n');
  listener().frame(frame(6), 6);
  expect(res.written[2]).toBe(`id: 6\nevent: changes\ndata: ${change(6)}\n\n`);
});

test('a client that stops reading has frames skipped, then is caught up from the log when it drains', async () => {
  const { res, listener, replays } = setUp();
  await flush();
  listener().frame(frame(6), 6);
  res.writableLength = MAX_BACKLOG_BYTES; // the client stopped reading
  listener().frame(frame(7), 7);
  listener().frame(frame(8), 8);
  expect(res.written.filter((w) => w.includes('event: changes'))).toHaveLength(1);
  res.writableLength = 0;
  res.emit('drain');
  await flush();
  // Replayed from the last version it was sent, so nothing is lost and nothing was queued meanwhile.
  expect(replays).toEqual([6]);
  const versions = res.written.filter((w) => w.includes('event: changes')).map((w) => Number(/^id: (\d+)/.exec(w)![1]));
  expect(versions).toEqual([6, 7, 8, 9]);
  listener().frame(frame(10), 10);
  expect(res.written.at(-1)).toContain('id: 10\n');
});

test('a client that never drains is cut and unsubscribed; a closed stream stays closed', async () => {
  const { res, listener, unsubscribed, ended } = setUp();
  await flush();
  res.writableLength = MAX_BACKLOG_BYTES;
  listener().frame(frame(6), 6);
  expect(res.destroyed).toBe(false);
  const now = Date.now();
  const spy = jest.spyOn(Date, 'now').mockReturnValue(now + STUCK_MS + 1);
  try {
    listener().frame(frame(7), 7);
  } finally {
    spy.mockRestore();
  }
  expect(res.destroyed).toBe(true);
  expect(unsubscribed()).toBe(1);
  await ended;
  const before = res.written.length;
  res.writableLength = 0;
  listener().frame(frame(8), 8);
  expect(res.written).toHaveLength(before);
});

test('closing by the client unsubscribes once', async () => {
  const { session, unsubscribed, ended } = setUp();
  await flush();
  session.close();
  session.close();
  await ended;
  expect(unsubscribed()).toBe(1);
});
