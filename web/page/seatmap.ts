/**
 * The seat map on a <canvas>: 50,000 seats drawn as one filled path per
 * colour, hit-tested by arithmetic on each section's grid (no per-seat DOM),
 * redrawn at most once per animation frame. Pan by dragging, zoom with the
 * wheel, pinch or the buttons; the keyboard moves a seat cursor (arrows,
 * Page Up/Down between sections) and Enter or Space picks the seat.
 */
import { formatMoney } from './format';

export interface SeatLayout {
  seatId: string;
  section: string;
  row: number;
  number: number;
  priceCents: number;
}

export type SeatState = 0 | 1 | 2; // available, held, sold
export const STATE_NAMES = ['available', 'held', 'sold'] as const;
export const stateOf = (s: string): SeatState => (s === 'held' ? 1 : s === 'sold' ? 2 : 0);

/** Colour-blind-safe tier colours, each ≥ 3:1 against the page background. */
export const TIER_COLOURS = ['#1f5fbf', '#0f7a55', '#8e3fb0', '#b4480c', '#0e6f85', '#a3206e', '#5b6a12', '#6d4a1f'];
const HELD = '#c5cad3';
const SOLD = '#4b5563';
const MINE = '#f5a524';
const SELECTED = '#111827';

interface Section {
  id: string;
  x: number;
  y: number;
  rows: number;
  cols: number;
  /** Seat index at (row-1, number-1), or -1. */
  grid: Int32Array;
  first: number;
}

const PITCH = 10;
const SIZE = 8;
const GAP = 40;
const LABEL = 16;

export class SeatMap {
  readonly seats: SeatLayout[];
  readonly state: Uint8Array;
  readonly version: Float64Array;
  readonly index = new Map<string, number>();
  readonly tiers: number[];
  private readonly tierOf: Uint8Array;
  private readonly xs: Float32Array;
  private readonly ys: Float32Array;
  readonly sections: Section[] = [];
  private width = 0;
  private height = 0;
  readonly selected = new Set<number>();
  readonly mine = new Set<number>();
  cursor = -1;
  private scale = 1;
  private ox = 0;
  private oy = 0;
  private dirty = false;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly pointers = new Map<number, { x: number; y: number }>();
  private dragged = false;
  private pinchDistance = 0;

  onPick: (index: number) => void = () => undefined;
  onCursor: (index: number) => void = () => undefined;
  onHover: (index: number, x: number, y: number) => void = () => undefined;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    seats: SeatLayout[],
  ) {
    this.seats = seats;
    const n = seats.length;
    this.state = new Uint8Array(n);
    this.version = new Float64Array(n);
    this.xs = new Float32Array(n);
    this.ys = new Float32Array(n);
    this.tierOf = new Uint8Array(n);
    this.tiers = [...new Set(seats.map((s) => s.priceCents))].sort((a, b) => b - a);
    const tierIndex = new Map(this.tiers.map((p, i) => [p, Math.min(i, TIER_COLOURS.length - 1)]));
    seats.forEach((s, i) => {
      this.index.set(s.seatId, i);
      this.tierOf[i] = tierIndex.get(s.priceCents) ?? 0;
    });
    this.layout();
    this.ctx = canvas.getContext('2d', { alpha: false })!;
    this.bind();
    new ResizeObserver(() => this.resize()).observe(canvas);
    this.resize();
  }

  /** Sections flow left to right in the order the venue lists them, wrapping at a roughly square width. */
  private layout(): void {
    const bySection = new Map<string, number[]>();
    this.seats.forEach((s, i) => {
      let list = bySection.get(s.section);
      if (!list) bySection.set(s.section, (list = []));
      list.push(i);
    });
    const dims = [...bySection.entries()].map(([id, list]) => {
      let rows = 0;
      let cols = 0;
      for (const i of list) {
        rows = Math.max(rows, this.seats[i]!.row);
        cols = Math.max(cols, this.seats[i]!.number);
      }
      return { id, list, rows, cols, w: cols * PITCH, h: rows * PITCH + LABEL };
    });
    const area = dims.reduce((a, d) => a + (d.w + GAP) * (d.h + GAP), 0);
    const maxW = Math.max(Math.sqrt(area) * 1.4, ...dims.map((d) => d.w));
    let x = 0;
    let y = 0;
    let lineH = 0;
    for (const d of dims) {
      if (x > 0 && x + d.w > maxW) {
        x = 0;
        y += lineH + GAP;
        lineH = 0;
      }
      const grid = new Int32Array(d.rows * d.cols).fill(-1);
      for (const i of d.list) {
        const s = this.seats[i]!;
        grid[(s.row - 1) * d.cols + (s.number - 1)] = i;
        this.xs[i] = x + (s.number - 1) * PITCH;
        this.ys[i] = y + LABEL + (s.row - 1) * PITCH;
      }
      this.sections.push({ id: d.id, x, y, rows: d.rows, cols: d.cols, grid, first: d.list[0] ?? -1 });
      x += d.w + GAP;
      lineH = Math.max(lineH, d.h);
      this.width = Math.max(this.width, x - GAP);
    }
    this.height = y + lineH;
  }

  private resize(): void {
    const dpr = window.devicePixelRatio || 1;
    const r = this.canvas.getBoundingClientRect();
    this.canvas.width = Math.max(1, Math.round(r.width * dpr));
    this.canvas.height = Math.max(1, Math.round(r.height * dpr));
    this.fit();
  }

  fit(): void {
    const r = this.canvas.getBoundingClientRect();
    const pad = 12;
    this.scale = Math.min((r.width - 2 * pad) / Math.max(1, this.width), (r.height - 2 * pad) / Math.max(1, this.height));
    this.scale = Math.max(this.scale, 0.02);
    this.ox = (r.width - this.width * this.scale) / 2;
    this.oy = (r.height - this.height * this.scale) / 2;
    this.invalidate();
  }

  zoom(factor: number, cx?: number, cy?: number): void {
    const r = this.canvas.getBoundingClientRect();
    const x = cx ?? r.width / 2;
    const y = cy ?? r.height / 2;
    const next = Math.min(8, Math.max(0.02, this.scale * factor));
    const k = next / this.scale;
    this.ox = x - (x - this.ox) * k;
    this.oy = y - (y - this.oy) * k;
    this.scale = next;
    this.invalidate();
  }

  /** Sets a seat's status if the change is newer than what the map has; true when something changed. */
  apply(seatId: string, status: string, version: number): boolean {
    const i = this.index.get(seatId);
    if (i === undefined || version < this.version[i]!) return false;
    this.version[i] = version;
    const s = stateOf(status);
    if (this.state[i] === s) return false;
    this.state[i] = s;
    this.invalidate();
    return true;
  }

  counts(): { available: number; held: number; sold: number } {
    const c = [0, 0, 0];
    for (let i = 0; i < this.state.length; i++) c[this.state[i]!]!++;
    return { available: c[0]!, held: c[1]!, sold: c[2]! };
  }

  invalidate(): void {
    if (this.dirty) return;
    this.dirty = true;
    requestAnimationFrame(() => {
      this.dirty = false;
      this.draw();
    });
  }

  private colourOf(i: number): string {
    if (this.mine.has(i)) return MINE;
    if (this.selected.has(i)) return SELECTED;
    const s = this.state[i]!;
    if (s === 1) return HELD;
    if (s === 2) return SOLD;
    return TIER_COLOURS[this.tierOf[i]!]!;
  }

  draw(): void {
    const ctx = this.ctx;
    const dpr = window.devicePixelRatio || 1;
    const w = this.canvas.width / dpr;
    const h = this.canvas.height / dpr;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, w, h);
    const s = this.scale;
    const size = Math.max(SIZE * s, 0.75);
    // Seats outside the view are skipped; the rest go into one path per colour.
    const minX = -this.ox / s - PITCH;
    const maxX = (w - this.ox) / s + PITCH;
    const minY = -this.oy / s - PITCH;
    const maxY = (h - this.oy) / s + PITCH;
    const buckets = new Map<string, number[]>();
    for (let i = 0; i < this.xs.length; i++) {
      const x = this.xs[i]!;
      const y = this.ys[i]!;
      if (x < minX || x > maxX || y < minY || y > maxY) continue;
      const c = this.colourOf(i);
      let b = buckets.get(c);
      if (!b) buckets.set(c, (b = []));
      b.push(i);
    }
    for (const [colour, list] of buckets) {
      ctx.fillStyle = colour;
      ctx.beginPath();
      for (const i of list) ctx.rect(this.ox + this.xs[i]! * s, this.oy + this.ys[i]! * s, size, size);
      ctx.fill();
    }
    if (size >= 4) {
      // Close enough to tell seats apart: mark held and sold ones by shape too, not colour alone.
      ctx.strokeStyle = '#ffffff';
      ctx.lineWidth = Math.max(1, size / 8);
      ctx.beginPath();
      for (const [colour, list] of buckets) {
        if (colour !== SOLD && colour !== HELD) continue;
        for (const i of list) {
          const x = this.ox + this.xs[i]! * s;
          const y = this.oy + this.ys[i]! * s;
          ctx.moveTo(x + size * 0.25, y + size * 0.25);
          ctx.lineTo(x + size * 0.75, y + size * 0.75);
          if (colour === SOLD) {
            ctx.moveTo(x + size * 0.75, y + size * 0.25);
            ctx.lineTo(x + size * 0.25, y + size * 0.75);
          }
        }
      }
      ctx.stroke();
    }
    for (const i of this.selected) this.ring(i, '#ffffff', '#111827');
    if (this.cursor >= 0) this.ring(this.cursor, '#111827', '#ffbf47', true);
    ctx.fillStyle = '#1f2937';
    ctx.font = `600 ${Math.max(10, Math.min(16, 11 * s))}px system-ui, sans-serif`;
    ctx.textBaseline = 'bottom';
    for (const sec of this.sections) {
      if (sec.cols * PITCH * s < 24) continue;
      ctx.fillText(sec.id, this.ox + sec.x * s, this.oy + (sec.y + LABEL - 3) * s);
    }
  }

  private ring(i: number, inner: string, outer: string, thick = false): void {
    const ctx = this.ctx;
    const s = this.scale;
    const size = Math.max(SIZE * s, 2);
    const x = this.ox + this.xs[i]! * s;
    const y = this.oy + this.ys[i]! * s;
    const pad = thick ? 3 : 2;
    ctx.lineWidth = thick ? 3 : 2;
    ctx.strokeStyle = outer;
    ctx.strokeRect(x - pad, y - pad, size + 2 * pad, size + 2 * pad);
    ctx.lineWidth = 1;
    ctx.strokeStyle = inner;
    ctx.strokeRect(x - pad + 1.5, y - pad + 1.5, size + 2 * pad - 3, size + 2 * pad - 3);
  }

  /** The seat under a point in CSS pixels of the canvas, or -1. */
  seatAt(px: number, py: number): number {
    const x = (px - this.ox) / this.scale;
    const y = (py - this.oy) / this.scale;
    // Small seats get a slightly larger target, up to the pitch.
    const slack = Math.min((PITCH - SIZE) / 2, 4 / this.scale);
    for (const sec of this.sections) {
      const gx = x - sec.x;
      const gy = y - sec.y - LABEL;
      if (gx < -slack || gy < -slack || gx > sec.cols * PITCH || gy > sec.rows * PITCH) continue;
      const col = Math.floor((gx + slack) / PITCH);
      const row = Math.floor((gy + slack) / PITCH);
      if (col < 0 || row < 0 || col >= sec.cols || row >= sec.rows) continue;
      const inX = gx - col * PITCH;
      const inY = gy - row * PITCH;
      if (inX > SIZE + slack || inY > SIZE + slack) continue;
      return sec.grid[row * sec.cols + col]!;
    }
    return -1;
  }

  /** Where a seat's centre is, in CSS pixels relative to the canvas (for tooltips and automation). */
  pointOf(i: number): { x: number; y: number } {
    return { x: this.ox + (this.xs[i]! + SIZE / 2) * this.scale, y: this.oy + (this.ys[i]! + SIZE / 2) * this.scale };
  }

  /** Brings a seat into view at a zoom where seats are comfortably clickable. */
  reveal(i: number): void {
    const r = this.canvas.getBoundingClientRect();
    if (this.scale < 1.6) this.zoom(1.6 / this.scale);
    const p = this.pointOf(i);
    if (p.x < 20 || p.y < 20 || p.x > r.width - 20 || p.y > r.height - 20) {
      this.ox += r.width / 2 - p.x;
      this.oy += r.height / 2 - p.y;
    }
    this.invalidate();
  }

  setCursor(i: number): void {
    this.cursor = i;
    if (i >= 0) {
      this.reveal(i);
      this.onCursor(i);
    }
    this.invalidate();
  }

  private moveCursor(dRow: number, dCol: number, dSection: number): void {
    if (this.cursor < 0) {
      const first = this.firstAvailable() ?? 0;
      this.setCursor(first);
      return;
    }
    const seat = this.seats[this.cursor]!;
    let si = this.sections.findIndex((s) => s.id === seat.section);
    if (dSection) {
      si = (si + dSection + this.sections.length) % this.sections.length;
      const target = this.sections[si]!;
      const next = target.grid.find((v) => v >= 0);
      if (next !== undefined && next >= 0) this.setCursor(next);
      return;
    }
    const sec = this.sections[si]!;
    let row = seat.row - 1 + dRow;
    let col = seat.number - 1 + dCol;
    while (row >= 0 && row < sec.rows && col >= 0 && col < sec.cols) {
      const i = sec.grid[row * sec.cols + col]!;
      if (i >= 0) return this.setCursor(i);
      row += dRow;
      col += dCol;
    }
  }

  private firstAvailable(): number | undefined {
    for (let i = 0; i < this.state.length; i++) if (this.state[i] === 0) return i;
    return undefined;
  }

  describe(i: number, sectionName: (id: string) => string): string {
    const s = this.seats[i]!;
    const status = this.mine.has(i) ? 'held by you' : this.selected.has(i) ? 'selected' : STATE_NAMES[this.state[i]!];
    return `${sectionName(s.section)}, row ${s.row}, seat ${s.number}, ${formatMoney(s.priceCents)}, ${status}`;
  }

  private bind(): void {
    const c = this.canvas;
    const local = (e: { clientX: number; clientY: number }) => {
      const r = c.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top };
    };
    c.addEventListener('pointerdown', (e) => {
      c.setPointerCapture(e.pointerId);
      this.pointers.set(e.pointerId, local(e));
      this.dragged = false;
      if (this.pointers.size === 2) {
        const [a, b] = [...this.pointers.values()] as [{ x: number; y: number }, { x: number; y: number }];
        this.pinchDistance = Math.hypot(a.x - b.x, a.y - b.y);
      }
    });
    c.addEventListener('pointermove', (e) => {
      const p = local(e);
      const prev = this.pointers.get(e.pointerId);
      if (!prev) {
        this.onHover(this.seatAt(p.x, p.y), p.x, p.y);
        return;
      }
      if (this.pointers.size === 2) {
        this.pointers.set(e.pointerId, p);
        const [a, b] = [...this.pointers.values()] as [{ x: number; y: number }, { x: number; y: number }];
        const d = Math.hypot(a.x - b.x, a.y - b.y);
        if (this.pinchDistance > 0) this.zoom(d / this.pinchDistance, (a.x + b.x) / 2, (a.y + b.y) / 2);
        this.pinchDistance = d;
        this.dragged = true;
        return;
      }
      const dx = p.x - prev.x;
      const dy = p.y - prev.y;
      if (Math.abs(dx) + Math.abs(dy) > 3 || this.dragged) {
        this.dragged = true;
        this.ox += dx;
        this.oy += dy;
        this.pointers.set(e.pointerId, p);
        this.invalidate();
      }
    });
    const end = (e: PointerEvent) => {
      const had = this.pointers.delete(e.pointerId);
      if (had && !this.dragged && this.pointers.size === 0 && e.type === 'pointerup') {
        const p = local(e);
        const i = this.seatAt(p.x, p.y);
        if (i >= 0) {
          this.cursor = i;
          this.onPick(i);
        }
      }
      if (this.pointers.size < 2) this.pinchDistance = 0;
    };
    c.addEventListener('pointerup', end);
    c.addEventListener('pointercancel', end);
    c.addEventListener('pointerleave', () => this.onHover(-1, 0, 0));
    c.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        const p = local(e);
        this.zoom(Math.exp(-e.deltaY * 0.0015), p.x, p.y);
      },
      { passive: false },
    );
    c.addEventListener('keydown', (e) => {
      const keys: Record<string, () => void> = {
        ArrowLeft: () => this.moveCursor(0, -1, 0),
        ArrowRight: () => this.moveCursor(0, 1, 0),
        ArrowUp: () => this.moveCursor(-1, 0, 0),
        ArrowDown: () => this.moveCursor(1, 0, 0),
        PageDown: () => this.moveCursor(0, 0, 1),
        PageUp: () => this.moveCursor(0, 0, -1),
        Home: () => this.setCursor(this.firstAvailable() ?? 0),
        '+': () => this.zoom(1.25),
        '=': () => this.zoom(1.25),
        '-': () => this.zoom(0.8),
        '0': () => this.fit(),
        Enter: () => this.cursor >= 0 && this.onPick(this.cursor),
        ' ': () => this.cursor >= 0 && this.onPick(this.cursor),
      };
      const action = keys[e.key];
      if (!action) return;
      e.preventDefault();
      action();
    });
    c.addEventListener('focus', () => {
      // Only a keyboard arrival places the cursor; a click focuses the canvas too.
      if (this.cursor < 0 && c.matches(':focus-visible')) this.moveCursor(0, 0, 0);
    });
  }
}
