import { z } from 'zod';
import type { DeliveryPolicy } from '../delivery/delivery-policy.js';
import type { Channel } from '../journey/journey-schema.js';
import {
  customerTimeZone,
  formatLocalTime,
  inLocalWindow,
  isTimeZone,
  nextLocalTime,
  parseLocalTime,
  type LocalTime,
  type LocalWindow,
} from '../local-time.js';
import { PolicyConfigError } from './errors.js';
import { INTERRUPTING_CHANNELS } from './interrupting-channels.js';
import { topicOf, type Topic } from './topic.js';

/** Quiet hours as configured (`QUIET_HOURS`): `HH:MM-HH:MM` local time, e.g. `21:00-08:00`. */
export const QuietHoursWindow = z.string().transform((value, ctx): LocalWindow => {
  const [from, to, ...rest] = value.trim().split('-');
  const start = parseLocalTime(from ?? '');
  const end = parseLocalTime(to ?? '');
  if (!start || !end || rest.length > 0) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not HH:MM-HH:MM, e.g. 21:00-08:00` });
    return z.NEVER;
  }
  if (start.hour === end.hour && start.minute === end.minute) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" starts and ends at the same time: unset it for no quiet hours`,
    });
    return z.NEVER;
  }
  return { start, end };
});

/** Whether a time is one a wall clock shows: a whole hour 0-23 and a whole minute 0-59. */
function isTimeOfDay(time: LocalTime): boolean {
  return (
    Number.isInteger(time.hour) &&
    Number.isInteger(time.minute) &&
    time.hour >= 0 &&
    time.hour <= 23 &&
    time.minute >= 0 &&
    time.minute <= 59
  );
}

export interface QuietHoursOptions {
  /** The daily quiet stretch in the customer's local time; it may span midnight. */
  window: LocalWindow;
  /** The IANA zone of customers whose `timezone` trait names none (DEFAULT_TIMEZONE). */
  defaultTimezone: string;
  /** Topics held back; default marketing only, since a receipt or a password reset is expected at once. */
  topics?: readonly Topic[];
  /** Channels held back; default the {@link INTERRUPTING_CHANNELS} (email, SMS, push). */
  channels?: readonly Channel[];
}

/**
 * Holds back sends that would reach the customer during quiet hours on their own clock (the
 * `timezone` trait, else `defaultTimezone`), until the hours end. Local time is followed across
 * daylight-saving changes: a quiet night is an hour shorter when the clocks spring forward and
 * an hour longer when they fall back; an end time the clocks skip ends quiet hours when they jump
 * past it; during a repeated hour the clocks, and so quiet hours, repeat.
 *
 * @example
 * const quiet = quietHours({ window: QuietHoursWindow.parse('21:00-08:00'), defaultTimezone: 'Europe/Berlin' });
 */
export function quietHours(options: QuietHoursOptions): DeliveryPolicy {
  if (!isTimeZone(options.defaultTimezone))
    throw new PolicyConfigError(
      'defaultTimezone',
      `"${options.defaultTimezone}" is not an IANA time zone. To fix: give one such as "Europe/Berlin" or "UTC".`,
    );
  const { start, end } = options.window;
  if (!isTimeOfDay(start) || !isTimeOfDay(end) || (start.hour === end.hour && start.minute === end.minute))
    // A window that starts as it ends reads as always quiet, and its end is never reached out of
    // it: every send would be held again and again, for good.
    throw new PolicyConfigError(
      'window',
      `${JSON.stringify(options.window)} is not a stretch of the day. To fix: give a start and an end that differ, each an hour 0-23 and a minute 0-59 (QuietHoursWindow.parse('21:00-08:00')), or no quiet hours.`,
    );
  const topics = options.topics ?? ['marketing'];
  const channels = options.channels ?? INTERRUPTING_CHANNELS;
  const label = `${formatLocalTime(options.window.start)}-${formatLocalTime(options.window.end)}`;
  return {
    check: async ({ channel, traits, now, topic }) => {
      if (!topics.includes(topicOf({ topic }))) return { action: 'send' };
      if (!channels.includes(channel)) return { action: 'send' };
      const zone = customerTimeZone(traits, options.defaultTimezone);
      if (!inLocalWindow(now, zone, options.window)) return { action: 'send' };
      const untilMs = nextLocalTime(now, zone, options.window.end);
      return {
        action: 'delay',
        untilMs,
        reason: `quiet hours ${label} in ${zone}: held until ${new Date(untilMs).toISOString()}`,
      };
    },
  };
}
