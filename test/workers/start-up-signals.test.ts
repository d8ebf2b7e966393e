import { afterEach, describe, expect, it, vi } from 'vitest';
import { signalsDuringStartUp } from '../../workers/run-process.js';

// The handler signalsDuringStartUp added last for `signal`, called directly: emitting the signal
// on `process` would reach the test runner's own listeners too.
const lastHandler = (signal: NodeJS.Signals) => process.listeners(signal).at(-1) as () => void;

describe('stop signals while a process starts up', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('leaves the clean-up to the stop of a start-up that finished within the grace', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const abandon = vi.fn(async () => {});
    const signals = signalsDuringStartUp();
    signals.hold(abandon);
    lastHandler('SIGTERM')();

    expect(signals.done()).toBe('SIGTERM');
    // The process's own stop() is still under way (workers finishing their jobs) well after.
    await vi.advanceTimersByTimeAsync(60_000);

    expect(abandon).not.toHaveBeenCalled();
    expect(exit).not.toHaveBeenCalled();
  });

  it('abandons a start-up still not done after the grace, and exits with the signal', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const abandon = vi.fn(async () => {});
    const signals = signalsDuringStartUp();
    signals.hold(abandon);
    lastHandler('SIGTERM')();

    await vi.advanceTimersByTimeAsync(6_000);
    signals.done();

    expect(abandon).toHaveBeenCalledTimes(1);
    expect(exit).toHaveBeenCalledWith(143);
  });
});
