/**
 * GET /queue/me for a million pollers. Almost every poll comes from a buyer
 * still waiting, whose answer is a function of two things: their position,
 * which never changes once the line is sealed, and the line's shared state
 * (serving position, length, sale status, admission rate), which moves once
 * per admission tick. This process keeps the first per buyer and reads the
 * second from Redis at most every LINE_STATE_MAX_AGE_MS per event, so a
 * waiting buyer's poll costs no Redis round trip.
 *
 * Anything that is not plainly "waiting" is read from Redis as before: the
 * first poll of a buyer in this process, the pre-queue, a position the
 * serving position has reached (admitted or expired: the admission token
 * comes from there), a closed or sold-out sale, and any line where someone
 * joined the waitlist (an offer admits out of line order). The cost is
 * staleness: a buyer the controller has just admitted reads "waiting" for at
 * most LINE_STATE_MAX_AGE_MS longer than a read from Redis would show.
 *
 * A position is kept with the seed of the line it came from; a line that is
 * rebuilt (a Redis flush, then a new seal) has a new seed, and positions
 * from the old one are never shown.
 */
import { RecentMap } from '../platform/recent-map';
import type { BuyerStatus, LineState, WaitingRoom } from './waiting-room';
import { waitingStatus } from './waiting-room';

/** How old the line's shared state may be when a waiting buyer's answer is built from memory. */
export const LINE_STATE_MAX_AGE_MS = 100;

/** Positions kept per event and generation: two generations, so at most twice this many (about 100 bytes each). */
const PLACES_PER_GENERATION = 100_000;
/** Events whose lines this process remembers at once. */
const MAX_LINES = 1_000;

interface Line {
  state: LineState;
  readAt: number;
  refreshing: Promise<LineState> | null;
  /** The seed the positions below belong to. */
  seed: string;
  positions: RecentMap<string, number>;
}

/** A buyer behind the serving position of an open or paused sealed line, answered from the line state. */
function waitingFromMemory(line: Line, buyerId: string): BuyerStatus | undefined {
  const { state } = line;
  const position = line.seed === state.seed ? line.positions.get(buyerId) : undefined;
  if (
    position !== undefined &&
    position > state.servingPosition &&
    position <= state.queueLength &&
    (state.status === 'open' || state.status === 'paused') &&
    !state.waitlistUsed
  ) {
    return waitingStatus(position, state.servingPosition, state.ratePerMinute);
  }
  return undefined;
}

export class WaitingStatus {
  private readonly lines = new Map<string, Line>();

  constructor(
    private readonly room: WaitingRoom,
    private readonly maxAgeMs = LINE_STATE_MAX_AGE_MS,
    private readonly perGeneration = PLACES_PER_GENERATION,
  ) {}

  /**
   * The status of a buyer still waiting in a sealed line, from memory alone:
   * undefined when the line state is stale or the answer needs Redis.
   */
  known(eventId: string, buyerId: string, nowMs = Date.now()): BuyerStatus | undefined {
    const line = this.lines.get(eventId);
    return line && nowMs - line.readAt < this.maxAgeMs ? waitingFromMemory(line, buyerId) : undefined;
  }

  /** The buyer's status, as WaitingRoom.status answers it (without a poll limit: the caller counts polls). */
  async status(eventId: string, buyerId: string, nowMs = Date.now()): Promise<BuyerStatus | null> {
    const cached = this.lines.get(eventId);
    const line = cached && nowMs - cached.readAt < this.maxAgeMs ? cached : await this.line(eventId, nowMs);
    const waiting = waitingFromMemory(line, buyerId);
    if (waiting) return waiting;
    const s = await this.room.status(eventId, buyerId, nowMs);
    // Only a sealed line's numeric positions are final (a pre-queue place is provisional until the shuffle).
    if (s && s.lineSeed && s.status !== 'prequeue' && s.position > 0) this.remember(line, s.lineSeed, buyerId, s.position);
    return s;
  }

  private async line(eventId: string, nowMs: number): Promise<Line> {
    let line = this.lines.get(eventId);
    if (!line) {
      if (this.lines.size >= MAX_LINES) this.lines.clear();
      const state = await this.room.lineState(eventId);
      line = this.lines.get(eventId);
      if (!line) {
        line = { state, readAt: nowMs, refreshing: null, seed: state.seed, positions: new RecentMap(this.perGeneration) };
        this.lines.set(eventId, line);
      }
      return line;
    }
    // One read per event at a time, however many polls arrive while it is out.
    const current = line;
    current.refreshing ??= this.room.lineState(eventId).finally(() => {
      current.refreshing = null;
    });
    current.state = await current.refreshing;
    current.readAt = Math.max(current.readAt, nowMs);
    return current;
  }

  private remember(line: Line, seed: string, buyerId: string, position: number): void {
    if (seed !== line.seed) {
      line.seed = seed;
      line.positions = new RecentMap(this.perGeneration);
    }
    line.positions.set(buyerId, position);
  }
}
