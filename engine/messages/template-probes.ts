import { SEND_ACTION, type Journey, type SendParams } from '../journey/define-journey.js';
import { declaredSplits } from '../journey/declared-splits.js';
import { actionsOf, nodesThatAct } from '../journey/machine-walk.js';
import { missingFromTraits } from './context-schema.js';
import { messageFields, type CoreMessage } from './message-catalog.js';
import type { RenderContext } from './rendered-message.js';
import { variantLabel } from './utm.js';

/** The traits of the placeholder customer: realistic, never empty. */
const PLACEHOLDER_TRAITS: Readonly<Record<string, string>> = {
  firstName: 'Alexandra',
  lastName: 'Whitfield',
  email: 'alexandra@example.com',
  phone: '+15555550123',
};

/** The placeholder context templates are rendered with at load time: realistic, never empty. */
export function probeContext(message: CoreMessage): RenderContext {
  return {
    customer: { id: 'probe-customer-0001' },
    profile: { ...PLACEHOLDER_TRAITS },
    trigger: {},
    event: { name: 'Probe', properties: {} },
    data: {},
    journey: { id: 'probe-journey', version: 1, state: 'probe', stage: 'awareness' },
    message: messageFields(message),
    variants: {},
    locale: 'en-US',
    timezone: 'Europe/London',
    unsubscribeUrl: 'https://example.com/unsubscribe/probe-token',
  };
}

/** One way a message is rendered at load time, to find what only some customers would miss. */
export interface Probe {
  /** The split variants rendered for, as {@link variantLabel} writes them: `control` for none. */
  variant: string;
  /** `placeholder`: every placeholder trait; `none`: only the traits a sending journey requires. */
  traits: 'placeholder' | 'none';
  context: RenderContext;
}

function sends(journey: Journey, messageId: string): boolean {
  return nodesThatAct(journey.machine).some((node) =>
    actionsOf(node).some(
      (action) => action.type === SEND_ACTION && (action.params as SendParams).message === messageId,
    ),
  );
}

/**
 * The contexts a message is rendered with at load time: for each journey that sends it, once
 * with no split passed and once per variant of each split it declares, each with the
 * placeholder traits and again with only the traits the journey's profile schema requires. A
 * headline or CTA behind `{{#if profile.firstName}}` or present in one variant only shows up
 * missing in one of them. Without a sending journey: no variant, with all traits and with none.
 */
export function probesFor(message: CoreMessage, journeys: readonly Journey[]): Probe[] {
  const base = probeContext(message);
  const senders = journeys.filter((journey) => sends(journey, message.id));
  const probes = new Map<string, Probe>();
  const add = (variants: Record<string, string>, traits: Probe['traits'], context: RenderContext) => {
    const key = JSON.stringify([variants, traits, context.profile]);
    if (!probes.has(key)) {
      probes.set(key, { variant: variantLabel(variants), traits, context: { ...context, variants } });
    }
  };
  if (senders.length === 0) {
    add({}, 'placeholder', base);
    add({}, 'none', { ...base, profile: {} });
  }
  for (const journey of senders) {
    const context: RenderContext = {
      ...base,
      journey: { ...base.journey, id: journey.id, version: journey.version },
    };
    const required = Object.fromEntries(
      Object.entries(PLACEHOLDER_TRAITS).filter(([trait]) => missingFromTraits(journey, [trait]) === 0),
    );
    const variants: Array<Record<string, string>> = [{}];
    for (const [split, arms] of declaredSplits(journey)) {
      for (const variant of arms) variants.push({ [split]: variant });
    }
    for (const traits of ['placeholder', 'none'] as const) {
      for (const chosen of variants) {
        add(chosen, traits, traits === 'none' ? { ...context, profile: required } : context);
      }
    }
  }
  return [...probes.values()];
}

/**
 * When a problem shows, for its text: `for a customer without optional traits`, `in variant
 * tips=holdout`, or a list of both. Empty when it shows in every probe.
 */
export function describeProbes(failing: readonly Probe[], all: readonly Probe[]): string {
  if (failing.length === all.length) return '';
  const without = all.filter((probe) => probe.traits === 'none');
  if (failing.length === without.length && failing.every((probe) => probe.traits === 'none')) {
    return 'for a customer without optional traits';
  }
  const variants = [...new Set(failing.map((probe) => probe.variant))];
  const whole = variants.every(
    (variant) =>
      all.filter((probe) => probe.variant === variant).length ===
      failing.filter((probe) => probe.variant === variant).length,
  );
  if (whole) return `in variant ${variants.join(', ')}`;
  return failing
    .map(
      (probe) =>
        `in variant ${probe.variant}${probe.traits === 'none' ? ' for a customer without optional traits' : ''}`,
    )
    .join('; ');
}
