import { z } from 'zod';
import { defineJourney, type Channel, type SendOptions } from '../../engine/index.js';

/** The project's message that has templates for each channel. */
export const MESSAGE_FOR: Record<Exclude<Channel, 'in-app'>, string> = {
  email: 'nudge',
  sms: 'nudge',
  push: 'welcome',
  webhook: 'thank-you',
};

/**
 * A journey of one step: when the customer does `event`, it sends `message` on `channels` (the
 * first, then each fallback in turn) and ends. A customer may enter it again and again.
 */
export function oneSendJourney(journey: {
  id: string;
  event: string;
  message: string;
  channels: readonly Channel[];
  send?: SendOptions;
}) {
  return defineJourney({
    id: journey.id,
    version: 1,
    trigger: { event: journey.event },
    profile: z.object({ firstName: z.string().optional() }).loose(),
    reentry: 'always',
    machine: (j) =>
      j.createMachine({
        initial: 'sent',
        states: {
          sent: {
            tags: 'consideration',
            type: 'final',
            entry: j.send(journey.message, journey.channels, journey.send),
          },
        },
      }),
  });
}

/** A journey that sends one message on one channel when the customer does `Ping <channel>`. */
export function pingJourney(channel: Exclude<Channel, 'in-app'>) {
  return oneSendJourney({
    id: `ping-${channel}`,
    event: `Ping ${channel}`,
    message: MESSAGE_FOR[channel],
    channels: [channel],
  });
}
