import type { DeliveryPolicy, PolicyDecision } from '../delivery/delivery-policy.js';

/** One rule of a chain: a plain `DeliveryPolicy` and the name its decisions are recorded under. */
export interface PolicyRule {
  /** Short and stable (`suppression`, `consent`, `frequency-cap`): a metrics label value. */
  name: string;
  policy: DeliveryPolicy;
}

/**
 * Runs rules in order; the first decision other than `send` wins and names its rule. Order
 * matters: rules that forbid a send (suppression, consent) come before rules that only postpone
 * it (quiet hours), so a customer who opted out is never delayed, only not sent to.
 *
 * @example
 * const policy = chainPolicies([
 *   { name: 'suppression', policy: suppressionRule(list) },
 *   { name: 'quiet-hours', policy: quietHours },
 * ]);
 */
export function chainPolicies(rules: readonly PolicyRule[]): DeliveryPolicy {
  return {
    async check(input): Promise<PolicyDecision> {
      for (const rule of rules) {
        const decision = await rule.policy.check(input);
        if (decision.action !== 'send') return { ...decision, rule: decision.rule ?? rule.name };
      }
      return { action: 'send' };
    },
    async release(input) {
      await Promise.all(rules.map((rule) => rule.policy.release?.(input)));
    },
  };
}
