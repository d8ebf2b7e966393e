import type { Channel } from '../journey/journey-schema.js';

/**
 * The channels that reach a person wherever they are, unasked: the ones caps and quiet hours
 * are about. An in-app message waits until they open the app (so it cannot wake anyone or crowd
 * an inbox), and a webhook reaches another system, not the person; a cap or quiet-hours rule
 * covers those two only when it names them.
 */
export const INTERRUPTING_CHANNELS: readonly Channel[] = ['email', 'sms', 'push'];
