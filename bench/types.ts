import type { LatencySummary } from './lib/stats';
import type { LoadResult } from './lib/load';
import type { CompactSeatMapFigures } from './suites/compact-seatmap';
import type { HoldsFigure } from './suites/holds';
import type { SseFigures } from './suites/sse';
import type { TemporalFigures } from './suites/temporal';
import type { AdmissionFigures } from './suites/admission';
import type { SimReport } from './simulate';

export interface Figure {
  group: string;
  name: string;
  value: number;
  unit: string;
  baseline?: string;
  baselineValue?: number | null;
  ratio?: number | null;
  note?: string;
  /** Short label when the figure belongs in the headline chart. */
  chart?: string;
}

export interface BenchResult {
  mode: 'quick' | 'full';
  startedAt: string;
  seconds: number;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; os: string; loadAverageAtStart: number[] };
  versions: Record<string, string>;
  figures: Figure[];
  latencies: Record<string, LatencySummary>;
  details: {
    http?: { timelines: Record<string, [number, number][]>; results: Record<string, LoadResult>; redisBenchmark: unknown };
    contention?: import('./suites/contention').ContentionFigures;
    holds?: HoldsFigure[];
    holdsFlash?: HoldsFigure[];
    temporal?: TemporalFigures;
    admission?: AdmissionFigures;
    sse?: SseFigures | null;
    compactSeatMap?: CompactSeatMapFigures;
    simulation?: SimReport;
  };
  skipped: string[];
  notes: string[];
  ok: boolean;
}
