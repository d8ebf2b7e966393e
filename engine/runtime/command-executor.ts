import type { Clock } from '../clock.js';
import type { CustomerJob, CustomerJobIndex } from '../store/customer-jobs.js';
import { DELIVERY_JOB_VERSION, type DeliveryJobData } from '../delivery/delivery-job.js';
import type { Command, ScheduleCommand, SendCommand } from './command.js';
import { addTimerJob, timerJobData } from './timer-job.js';
import type { Queues } from './queues.js';
import { shardOfTimer, type TimerWheel } from './timer-wheel.js';

export interface CommandExecutorOptions {
  /** Each customer's jobs go to the queues of the customer's shard. */
  queues: Queues;
  clock: Clock;
  /** Journey time runs this many times faster than real time (TIME_SCALE). */
  timeScale: number;
  /** Records each customer's send job ids, so erasing a customer can remove their queued sends. */
  jobIndex?: CustomerJobIndex;
  /** Where long timers wait until the sweep promotes them; without it every timer is a BullMQ job. */
  timerWheel?: TimerWheel;
}

/**
 * Carries out committed commands. Each one is idempotent by its id, because after a crash the
 * outbox is carried out again: a job id that exists makes the add a no-op, a fired timer is
 * ignored by the runtime, and deliveries are recorded once per operation id.
 */
export class CommandExecutor {
  constructor(readonly options: CommandExecutorOptions) {}

  /** The real wait before a timer fires, measured from when its command was committed. */
  realDelay(command: ScheduleCommand, now: number): number {
    const committedAt = command.dueAt - command.delayMs;
    return Math.max(0, Math.round(command.delayMs / this.options.timeScale - (now - committedAt)));
  }

  /**
   * Issued ahead of the adds, without waiting for its answer before adding: that saved a round
   * trip on the way from an event to its message. On a worker's connection, which the queues
   * share (createEngine), Redis then writes the index before it adds the jobs. The step waits for
   * both before it commits, so an index write that failed fails the step and its retry writes it
   * again: a send job the index does not name can only outlive a step whose index write failed
   * and whose process then died before the retry. Timers are not indexed: from the commit
   * on the instance names them, and a step that dies before its commit leaves its mark on the
   * customer, which tells erasure to look for them in the queue itself (customer-erasure.ts).
   * That saves a command on every step that only waits.
   */
  private async recordSends(index: CustomerJobIndex, sends: readonly SendCommand[]): Promise<void> {
    const byCustomer = new Map<string, CustomerJob[]>();
    for (const send of sends)
      byCustomer.set(send.customerId, [
        ...(byCustomer.get(send.customerId) ?? []),
        { queue: 'deliveries', jobId: send.opId },
      ]);
    await Promise.all([...byCustomer].map(([customerId, jobs]) => index.record(customerId, jobs)));
  }

  async run(commands: readonly Command[]): Promise<void> {
    const now = this.options.clock.now();
    const timers = commands.filter((c): c is ScheduleCommand => c.type === 'schedule');
    const sends = commands.filter((c): c is SendCommand => c.type === 'send');
    const cancels = commands.filter((c) => c.type === 'cancel');
    const indexed = this.options.jobIndex ? this.recordSends(this.options.jobIndex, sends) : undefined;
    const { queues, timerWheel: wheel } = this.options;
    const waiting: Array<{ jobId: string; delayMs: number }> = [];
    const jobs: Array<Promise<void>> = [];
    for (const timer of timers) {
      const delay = this.realDelay(timer, now);
      const data = timerJobData(timer);
      // The wheel holds a job id and a due time only: a timer whose job needs more data is a job.
      if (wheel?.holds(delay) && data.c === undefined && data.e === undefined)
        waiting.push({ jobId: timer.jobId, delayMs: delay });
      // One add each, not addBulk: BullMQ's addBulk goes through an ioredis pipeline that sends the
      // whole Lua source of its add script every time, which cost more than the rest of a transition.
      // Routed by the job id, as the wheel, promotion and cancellation route it.
      else jobs.push(addTimerJob(shardOfTimer(queues, timer.jobId).journeys, timer.jobId, data, delay));
    }
    const cancelled = cancels.map((cancel) => cancel.jobId);
    await Promise.all([
      ...(indexed ? [indexed] : []),
      ...jobs,
      ...(wheel ? [wheel.add(waiting), wheel.remove(cancelled).then(() => undefined)] : []),
      // Each send starts on its first preferred channel; delivery falls back along the list.
      ...sends.map((send) => {
        const channel = send.channels[0]!;
        const data: DeliveryJobData = { ...send, v: DELIVERY_JOB_VERSION, channel };
        return queues.forCustomer(send.customerId).deliveries[channel].add(send.message, data, {
          jobId: send.opId,
        });
      }),
      // A timer that is already running cannot be removed (remove answers 0); the runtime drops
      // it when it arrives, because its job id is no longer on the instance.
      ...cancelled.map((jobId) => shardOfTimer(queues, jobId).journeys.remove(jobId)),
    ]);
  }
}
