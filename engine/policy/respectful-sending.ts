import type { RedisConnection } from '../redis/connection.js';
import type { LocalWindow } from '../local-time.js';
import type { FrequencyCapRule } from './cap-rules.js';
import { frequencyCaps } from './frequency-cap.js';
import type { PolicyRule } from './policy-chain.js';
import { quietHours } from './quiet-hours.js';

export interface RespectfulSendingOptions {
  redis: RedisConnection;
  prefix: string;
  /** FREQUENCY_CAPS, parsed; empty for no caps. */
  caps: readonly FrequencyCapRule[];
  /** QUIET_HOURS, parsed; undefined for none. */
  quietHours?: LocalWindow | undefined;
  /** DEFAULT_TIMEZONE. */
  defaultTimezone: string;
}

/**
 * The time rules of a policy chain, in the order they must run: quiet hours first, so that a
 * send held for the night takes no cap slot; frequency caps last of all, because they count a
 * send the moment they let it through. Consent and suppression go before both.
 *
 * @example
 * const rules = respectfulSending({ redis, prefix: config.REDIS_PREFIX, caps: config.FREQUENCY_CAPS,
 *   quietHours: config.QUIET_HOURS, defaultTimezone: config.DEFAULT_TIMEZONE });
 */
export function respectfulSending(options: RespectfulSendingOptions): PolicyRule[] {
  return [
    ...(options.quietHours
      ? [
          {
            name: 'quiet-hours',
            policy: quietHours({ window: options.quietHours, defaultTimezone: options.defaultTimezone }),
          },
        ]
      : []),
    ...(options.caps.length > 0
      ? [
          {
            name: 'frequency-cap',
            policy: frequencyCaps({ redis: options.redis, prefix: options.prefix, rules: options.caps }),
          },
        ]
      : []),
  ];
}
