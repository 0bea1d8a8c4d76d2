import { percentile } from '../daemon/stats';
import { round } from './machine';

/** Median and 95th percentile of timings: the median for speed, p95 for the bad frames. */
export interface Timing {
  count: number;
  median: number;
  p95: number;
}

/** Summarises `values` (milliseconds); zeros when there are none. */
export function summarise(values: number[]): Timing {
  return {
    count: values.length,
    median: percentile(values, 50) ?? 0,
    p95: percentile(values, 95) ?? 0,
  };
}

/** Frames per second from a time per frame in milliseconds; 0 for no time at all. */
export function perSecond(msPerItem: number): number {
  return msPerItem > 0 ? round(1000 / msPerItem, 2) : 0;
}

/** Items per second over a wall-clock span. */
export function rate(items: number, ms: number): number {
  return ms > 0 ? round((items * 1000) / ms, 2) : 0;
}
