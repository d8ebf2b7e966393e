import type { Channel } from '../journey/journey-schema.js';
import type { Stage } from '../journey/stage.js';

/**
 * What a send does when a frequency cap holds it back: wait for the next allowed slot, or give
 * up. `wait` when the journey does not say.
 */
export type WhenCapped = 'wait' | 'skip';

/** A send a transition asked for. `opId` is deterministic, so executing it twice sends once. */
export interface SendCommand {
  type: 'send';
  opId: string;
  customerId: string;
  journeyId: string;
  journeyVersion: number;
  instanceId: string;
  state: string;
  stage: Stage;
  message: string;
  /** Channels in order of preference; delivery takes the first the customer can be reached on. */
  channels: readonly Channel[];
  variants: Record<string, string>;
  /** What the templates may use besides the profile, which is read fresh at send time. */
  trigger: Record<string, unknown>;
  data: Record<string, unknown>;
  /** The event whose transition asked for the send (properties `{}` for a timer). */
  event: { name: string; properties: Record<string, unknown> };
  at: number;
  /** Absent when the journey did not say (and on every job made before the option existed): wait. */
  whenCapped?: WhenCapped;
  /**
   * Not sent when the customer reaches the journey's goal after the send was made and before it
   * goes out (`j.send(…, { cancelOnGoal: true })`). Absent when the journey did not say (and on
   * every job made before the option existed): sent.
   */
  cancelOnGoal?: true;
}

/** An xstate delay, to become a BullMQ delayed job with this id. */
export interface ScheduleCommand {
  type: 'schedule';
  jobId: string;
  customerId: string;
  instanceId: string;
  sendId: string;
  eventType: string;
  /** Journey time at which it is due; the worker divides the wait by TIME_SCALE. */
  dueAt: number;
  delayMs: number;
}

/** An xstate cancel: remove the delayed job if it has not run (a late one is ignored anyway). */
export interface CancelCommand {
  type: 'cancel';
  jobId: string;
}

export type Command = SendCommand | ScheduleCommand | CancelCommand;

/** What happened, for logs, metrics and the dead-letter list. */
export type Note =
  | { kind: 'entered'; journeyId: string; instanceId: string }
  /** The goal reached: `revenue` from the goal event's `properties.revenue`, a finite number or decimal string. */
  | { kind: 'converted'; journeyId: string; instanceId: string; at: number; revenue?: number }
  | { kind: 'exited'; journeyId: string; instanceId: string; reason: string }
  /**
   * `mistyped`: the trigger's schema refused the event for a property of another type than it
   * declares, or one missing: more likely a sender's bug than a filter at work, so it is logged
   * as a warning.
   */
  | { kind: 'not-entered'; journeyId: string; reason: string; mistyped?: true }
  | { kind: 'rejected'; journeyId?: string; instanceId?: string; reason: string }
  | { kind: 'failed'; journeyId: string; instanceId: string; reason: string };
