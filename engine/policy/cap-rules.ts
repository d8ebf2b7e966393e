import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { CHANNELS, type Channel } from '../journey/journey-schema.js';
import { INTERRUPTING_CHANNELS } from './interrupting-channels.js';
import type { Topic } from './topic.js';

/**
 * One frequency cap: at most `max` sends per customer in any `windowMs`, counted across every
 * journey, over the sends that match its topic and channel (an absent topic matches all, an
 * absent channel the {@link INTERRUPTING_CHANNELS}).
 */
export interface FrequencyCapRule {
  topic?: Topic;
  channel?: Channel;
  max: number;
  windowMs: number;
  /** How the rule was written, e.g. `marketing.sms:1/1d`: it names the rule in reasons and keys. */
  label: string;
}

const TOPICS: readonly Topic[] = ['marketing', 'transactional'];

/** Reads `<scope>:<max>/<duration>`, scope a topic, a channel, or `<topic>.<channel>`. */
function readRule(text: string): FrequencyCapRule | string {
  const match = /^([a-z-]+(?:\.[a-z-]+)?):(\d+)\/(\S+)$/.exec(text);
  if (!match) return `"${text}" is not <scope>:<max>/<duration>, e.g. marketing:3/24h`;
  const [, scope, max, window] = match as unknown as [string, string, string, string];
  const parts = scope.split('.');
  const topic = TOPICS.find((t) => t === parts[0]);
  const channelName = parts.length === 2 ? parts[1] : topic ? undefined : parts[0];
  const channel = CHANNELS.find((c) => c === channelName);
  if ((parts.length === 2 && !topic) || (channelName !== undefined && !channel))
    return `"${scope}" is not a scope: write a topic (${TOPICS.join(', ')}), a channel (${CHANNELS.join(', ')}) or <topic>.<channel>`;
  if (Number(max) < 1) return `"${text}" allows no sends: the count must be at least 1`;
  let windowMs: number;
  try {
    windowMs = parseDuration(window);
  } catch {
    return `cannot read "${window}" as a duration`;
  }
  if (windowMs < 1000) return `"${window}" is shorter than a second`;
  return {
    ...(topic ? { topic } : {}),
    ...(channel ? { channel } : {}),
    max: Number(max),
    windowMs,
    label: `${scope}:${max}/${window}`,
  };
}

/**
 * Frequency caps as configured (`FREQUENCY_CAPS`): rules separated by commas, such as
 * `marketing:3/24h,marketing.sms:1/1d`.
 */
export const FrequencyCapRules = z.string().transform((value, ctx): FrequencyCapRule[] => {
  const rules: FrequencyCapRule[] = [];
  for (const text of value
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)) {
    const rule = readRule(text);
    if (typeof rule === 'string') {
      ctx.addIssue({ code: 'custom', message: rule });
      return z.NEVER;
    }
    // Refused here, where the message names FREQUENCY_CAPS, not by frequencyCaps() at start-up
    // (two rules cannot share the label that keys their count).
    if (rules.some((r) => r.label === rule.label)) {
      ctx.addIssue({ code: 'custom', message: `"${rule.label}" is given twice: write each rule once` });
      return z.NEVER;
    }
    rules.push(rule);
  }
  return rules;
});

/** Whether a rule counts a send of this topic on this channel. */
export function ruleMatches(rule: FrequencyCapRule, topic: Topic, channel: Channel): boolean {
  return (
    (rule.topic === undefined || rule.topic === topic) &&
    (rule.channel === undefined ? INTERRUPTING_CHANNELS.includes(channel) : rule.channel === channel)
  );
}
