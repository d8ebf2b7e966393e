import { z } from 'zod';
import { defineJourney, type Channel } from '../../engine/index.js';

/** The project's message that has templates for each channel. */
export const MESSAGE_FOR: Record<Exclude<Channel, 'in-app'>, string> = {
  email: 'nudge',
  sms: 'nudge',
  push: 'welcome',
  webhook: 'thank-you',
};

/** A journey that sends one message on one channel when the customer does `Ping <channel>`. */
export function pingJourney(channel: Exclude<Channel, 'in-app'>) {
  return defineJourney({
    id: `ping-${channel}`,
    version: 1,
    trigger: { event: `Ping ${channel}` },
    profile: z.object({ firstName: z.string().optional() }).loose(),
    reentry: 'always',
    machine: (j) =>
      j.createMachine({
        initial: 'sent',
        states: {
          sent: { tags: 'consideration', type: 'final', entry: j.send(MESSAGE_FOR[channel], [channel]) },
        },
      }),
  });
}
