/**
 * Seat plans an organiser uploads: CSV with a header row
 * (id,name,rows,seatsPerRow,priceCents — or price in dollars instead of
 * priceCents), or JSON (an array of sections, or an object with `sections`
 * and any other event fields). The API validates the result again.
 */
export interface SectionPlan {
  id: string;
  name: string;
  rows: number;
  seatsPerRow: number;
  priceCents: number;
}

export interface SeatPlan {
  sections: SectionPlan[];
  /** Other event fields found in a JSON plan (name, venue, …). */
  event: Record<string, unknown>;
}

export class SeatPlanError extends Error {}

function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

const int = (v: string | undefined, what: string, line: number) => {
  const n = Number(v);
  if (!v || !Number.isInteger(n) || n < 0) throw new SeatPlanError(`line ${line}: ${what} must be a whole number`);
  return n;
};

export function parseCsvPlan(text: string): SeatPlan {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() && !l.trim().startsWith('#'));
  if (lines.length < 2) throw new SeatPlanError('the CSV needs a header row and at least one section');
  const header = splitCsvLine(lines[0]!).map((c) => c.toLowerCase());
  const col = (name: string) => header.indexOf(name.toLowerCase());
  for (const need of ['id', 'name', 'rows', 'seatsPerRow']) {
    if (col(need) < 0) throw new SeatPlanError(`the CSV header must name the column ${need}`);
  }
  if (col('priceCents') < 0 && col('price') < 0) throw new SeatPlanError('the CSV header must name priceCents or price');
  const sections = lines.slice(1).map((l, i) => {
    const cells = splitCsvLine(l);
    const line = i + 2;
    const priceCents =
      col('priceCents') >= 0 ? int(cells[col('priceCents')], 'priceCents', line) : Math.round(Number(cells[col('price')]) * 100);
    if (!Number.isFinite(priceCents)) throw new SeatPlanError(`line ${line}: price must be a number`);
    return {
      id: cells[col('id')] ?? '',
      name: cells[col('name')] ?? '',
      rows: int(cells[col('rows')], 'rows', line),
      seatsPerRow: int(cells[col('seatsPerRow')], 'seatsPerRow', line),
      priceCents,
    };
  });
  return { sections, event: {} };
}

export function parseJsonPlan(text: string): SeatPlan {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new SeatPlanError('the file is not valid JSON');
  }
  const obj = Array.isArray(v) ? { sections: v } : (v as Record<string, unknown>);
  if (!obj || typeof obj !== 'object' || !Array.isArray(obj.sections)) throw new SeatPlanError('the JSON needs a sections array');
  const { sections, ...event } = obj;
  return { sections: sections as SectionPlan[], event };
}

export function parseSeatPlan(fileName: string, text: string): SeatPlan {
  return /\.json$/i.test(fileName) || text.trim().startsWith('{') || text.trim().startsWith('[') ? parseJsonPlan(text) : parseCsvPlan(text);
}

export const seatCount = (sections: SectionPlan[]) => sections.reduce((n, s) => n + s.rows * s.seatsPerRow, 0);
