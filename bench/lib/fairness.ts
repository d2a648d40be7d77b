/** Order statistics for the fairness report. */

/**
 * Normalised Kendall tau distance between two orderings of the same items:
 * the share of comparable pairs that the second key puts in the opposite
 * order from the first. Pairs tied on either key are not comparable.
 * O(n log n) by merge-sort inversion counting.
 */
export function kendallTauDistance(pairs: [first: number, second: number][]): { distance: number; inversions: number; comparable: number } {
  const n = pairs.length;
  if (n < 2) return { distance: 0, inversions: 0, comparable: 0 };
  const sorted = [...pairs].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const total = (n * (n - 1)) / 2;
  const tiedPairs = (keys: number[]) => {
    let t = 0;
    let run = 1;
    for (let i = 1; i <= keys.length; i++) {
      if (i < keys.length && keys[i] === keys[i - 1]) run++;
      else {
        t += (run * (run - 1)) / 2;
        run = 1;
      }
    }
    return t;
  };
  const firstTies = tiedPairs(sorted.map((p) => p[0]));
  const secondTies = tiedPairs(pairs.map((p) => p[1]).sort((a, b) => a - b));
  // Pairs tied on both keys, counted once in each tie count.
  const bothTies = tiedPairs(sorted.map((p) => p[0] * 1e9 + p[1]).sort((a, b) => a - b));
  // Inversions in `second` once sorted by `first` (ties on first sorted by second, so they add none).
  const a = sorted.map((p) => p[1]);
  const buf = new Array<number>(n);
  let inversions = 0;
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        if (a[i]! <= a[j]!) buf[k++] = a[i++]!;
        else {
          inversions += mid - i;
          buf[k++] = a[j++]!;
        }
      }
      while (i < mid) buf[k++] = a[i++]!;
      while (j < hi) buf[k++] = a[j++]!;
    }
    for (let x = 0; x < n; x++) a[x] = buf[x]!;
  }
  const comparable = total - firstTies - secondTies + bothTies;
  return { distance: comparable > 0 ? inversions / comparable : 0, inversions, comparable };
}
