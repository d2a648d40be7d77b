/** Pure seat-selection logic, shared by the reserve query and its tests. */

/** A run of adjacent free seats in one row: seat numbers lo..hi of a row `width` seats wide. */
export interface Island {
  section: string;
  row: number;
  lo: number;
  hi: number;
  width: number;
}

/**
 * Picks `quantity` adjacent seats inside the island: as close to the row's
 * centre as possible without leaving a single orphan seat on either side,
 * unless the island's size makes one unavoidable.
 */
export function chooseBlock(island: Island, quantity: number): string[] {
  const { lo, hi, width } = island;
  if (hi - lo + 1 < quantity) return [];
  const centre = (width + 1) / 2;
  let best: { start: number; orphans: number; distance: number } | null = null;
  for (let start = lo; start + quantity - 1 <= hi; start++) {
    const left = start - lo;
    const right = hi - (start + quantity - 1);
    const orphans = Number(left === 1) + Number(right === 1);
    const distance = Math.abs(start + (quantity - 1) / 2 - centre);
    if (!best || orphans < best.orphans || (orphans === best.orphans && distance < best.distance)) {
      best = { start, orphans, distance };
    }
  }
  const seats: string[] = [];
  for (let n = best!.start; n < best!.start + quantity; n++) seats.push(`${island.section}-${island.row}-${n}`);
  return seats;
}
