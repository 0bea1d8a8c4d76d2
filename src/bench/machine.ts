import { readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * What the figures were measured on. The build machine is shared with other engineers, so a
 * figure means little without the load and the CPU others used while it was measured.
 */

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  /** 1, 5 and 15 minute load averages when the bench started. */
  loadAverage: [number, number, number];
  memoryMb: number;
  node: string;
  platform: string;
}

export function describeMachine(): MachineInfo {
  const [one, five, fifteen] = os.loadavg().map((value) => round(value, 2));

  return {
    cores: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    loadAverage: [one, five, fifteen],
    memoryMb: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

export function round(value: number, digits: number): number {
  const scale = 10 ** digits;

  return Math.round(value * scale) / scale;
}

/** Resident set size of this process in MB (2^20 bytes). */
export function rssMb(): number {
  return round(process.memoryUsage().rss / 2 ** 20, 1);
}

/**
 * Items per second `cores` idle cores would reach if the work used them all: an upper bound
 * on a shared machine's figure, from CPU time per item (which contention barely moves).
 */
export function idleCeiling(cpuMsPerItem: number, cores: number): number {
  return cpuMsPerItem > 0 ? round((cores * 1000) / cpuMsPerItem, 1) : 0;
}

/** CPU use seen while a section ran; see CpuMeter. */
export interface CpuShare {
  /** Percent of all cores busy with other processes (100 = every core). */
  othersPercent: number;
  /** Percent of all cores busy with this process, its threads included. */
  ownPercent: number;
  /** 1-minute load average at the end. */
  loadAverage: number;
  /**
   * CPU time this process used, ms, every thread. Others' load barely changes it, so per
   * frame it gives the speed the same work would reach on idle cores (see idleCeiling).
   */
  ownCpuMs: number;
}

interface Snapshot {
  busyTicks: number;
  totalTicks: number;
  own: NodeJS.CpuUsage;
}

/** Linux kernel ticks per second for /proc/stat (USER_HZ), 100 on every mainstream arch. */
const TICKS_PER_SECOND = 100;

function readTicks(): { busyTicks: number; totalTicks: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line
      .trim().split(/\s+/).slice(1).map(Number);
    const busyTicks = user + nice + system + irq + softirq + steal;

    return { busyTicks, totalTicks: busyTicks + idle + iowait };
  } catch {
    // Not Linux: the share of others cannot be told apart, only the load average is shown.
    return undefined;
  }
}

/**
 * Measures how much CPU other processes took while a section ran: all busy time on the
 * machine (/proc/stat) minus this process's own (process.cpuUsage, every thread). A figure
 * taken while others used half the machine is not a property of the code.
 */
export class CpuMeter {
  private readonly start: Snapshot | undefined;

  constructor() {
    const ticks = readTicks();
    this.start = ticks && { ...ticks, own: process.cpuUsage() };
  }

  /** The shares since construction; undefined where /proc/stat is missing. */
  read(): CpuShare | undefined {
    const ticks = readTicks();
    if (!this.start || !ticks) return undefined;

    const total = ticks.totalTicks - this.start.totalTicks;
    if (total <= 0) return undefined;

    const own = process.cpuUsage(this.start.own);
    const ownTicks = ((own.user + own.system) / 1e6) * TICKS_PER_SECOND;
    const othersTicks = Math.max(0, ticks.busyTicks - this.start.busyTicks - ownTicks);

    return {
      othersPercent: round(Math.min(100, (othersTicks / total) * 100), 0),
      ownPercent: round(Math.min(100, (ownTicks / total) * 100), 0),
      loadAverage: round(os.loadavg()[0], 2),
      ownCpuMs: round((own.user + own.system) / 1000, 0),
    };
  }
}
