import type { RedisConnection } from '../redis/connection.js';
import type { DeliveryPolicy } from '../delivery/delivery-policy.js';
import { consentRule } from './consent-rule.js';
import { ConsentStore } from './consent-store.js';
import { chainPolicies, type PolicyRule } from './policy-chain.js';
import { SuppressionList } from './suppression-list.js';
import { suppressionRule } from './suppression-rule.js';

export interface DefaultPolicyOptions {
  redis: RedisConnection;
  prefix: string;
  /** Email marketing needs a confirmed grant (DOUBLE_OPT_IN). Default false. */
  doubleOptIn?: boolean;
  /**
   * Rules that postpone or thin out sends (frequency caps, quiet hours). They run after the
   * rules that forbid a send, so nobody is delayed for a message they must not get at all.
   */
  timing?: readonly PolicyRule[];
}

/**
 * The policy every send passes through unless the engine is given another: the one place the
 * chain is put together, for the engine and for `workers/`.
 *
 * Order: `suppression` (an address that bounced or opted out), then `consent` (the customer's
 * answer per channel and topic), then the timing rules.
 */
export function createDefaultPolicy(options: DefaultPolicyOptions): DeliveryPolicy {
  const rules: PolicyRule[] = [
    { name: 'suppression', policy: suppressionRule(new SuppressionList(options.redis, options.prefix)) },
    {
      name: 'consent',
      policy: consentRule({
        store: new ConsentStore(options.redis, options.prefix),
        doubleOptIn: options.doubleOptIn ?? false,
      }),
    },
    // ── Timing rules go here: frequency caps, quiet hours (plain DeliveryPolicy objects). ──
    ...(options.timing ?? []),
  ];
  return chainPolicies(rules);
}
