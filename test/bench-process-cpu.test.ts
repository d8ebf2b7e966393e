import { describe, expect, it } from 'vitest';
import { processCpuSeconds } from '../bench/process-cpu.js';

const cpuMs = ({ user, system }: NodeJS.CpuUsage) => (user + system) / 1000;

describe("the benchmarks' reading of another process's CPU", () => {
  it('reads a running process, and nothing for one that is not there', () => {
    const before = processCpuSeconds(process.pid)!;
    // Burn 60 ms of this process's CPU, by its own count: a busy machine may give a wall-clock
    // loop less.
    const start = process.cpuUsage();
    while (cpuMs(process.cpuUsage(start)) < 60);
    const after = processCpuSeconds(process.pid)!;
    expect(after - before).toBeGreaterThanOrEqual(0.03);
    expect(processCpuSeconds(2 ** 30)).toBeUndefined();
    expect(processCpuSeconds(undefined)).toBeUndefined();
  });
});
