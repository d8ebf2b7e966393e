import { describe, expect, it } from 'vitest';
import { processCpuSeconds } from '../bench/process-cpu.js';

describe("the benchmarks' reading of another process's CPU", () => {
  it('reads a running process, and nothing for one that is not there', () => {
    const before = processCpuSeconds(process.pid)!;
    const until = Date.now() + 50;
    while (Date.now() < until); // burn 50 ms of CPU
    const after = processCpuSeconds(process.pid)!;
    expect(after - before).toBeGreaterThanOrEqual(0.03);
    expect(processCpuSeconds(2 ** 30)).toBeUndefined();
    expect(processCpuSeconds(undefined)).toBeUndefined();
  });
});
