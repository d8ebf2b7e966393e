import { parseDuration } from '../duration.js';
import type { Journey } from '../journey/define-journey.js';
import { createJourneyHarness, type HarnessInstance, type HarnessSend } from '../harness/journey-harness.js';
import type { MessageRenderer } from '../messages/message-renderer.js';
import type { TemplateSet } from '../messages/template-set.js';
import type { RenderedMessage } from '../messages/rendered-message.js';
import type { Note } from '../runtime/command.js';
import { ConsentTrait } from '../policy/consent-record.js';
import {
  chooseChannel,
  describeAddress,
  renderContextFor,
  type RenderSettings,
} from './render-for-customer.js';
import { placeEvents, type SimulationScript, type TimedEvent } from './simulation-script.js';

/** A send of the simulation: where delivery would take it, and what the customer would read. */
export type SimulatedSend = HarnessSend &
  (
    | { outcome: 'sent'; to: string; via: string; rendered: RenderedMessage; fellBack: string[] }
    | { outcome: 'skipped'; reasons: string[] }
  );

/** One thing that happened to the customer: an event of the script, or timers falling due. */
export interface SimulationStep {
  at: number;
  cause: string;
  /** Instances whose state or status changed, with where they came from. */
  changes: Array<{ instance: HarnessInstance; from?: { state: string; status: string } }>;
  notes: Note[];
  sends: SimulatedSend[];
}

export interface SimulationResult {
  journey: string;
  customer: string;
  start: number;
  end: number;
  steps: SimulationStep[];
  /** Timers still pending when the simulation stopped, with when they would fire. */
  pending: Array<{ dueAt: number; delayMs: number }>;
  /** Set when the timers fired {@link MAX_TIMER_STEPS} times and the run stopped there. */
  timerStepsCapped?: true;
}

export interface SimulationOptions {
  templates: TemplateSet;
  renderer: MessageRenderer;
  settings: RenderSettings;
  /**
   * How long after the last event to keep the clock running. Default: until no timer is
   * pending, for at most a year.
   */
  until?: string;
  /** What the script is called in errors, e.g. `events file events.json`. */
  what: string;
}

const MAX_RUN_MS = 365 * 86_400_000;

/** The longest `until` a simulation takes: a century, which keeps every time it prints a date. */
export const MAX_UNTIL_MS = 36_500 * 86_400_000;

/**
 * Timer steps a simulation fires at most: a journey whose wait loops (every second, say) would
 * otherwise be stepped through for the whole run, millions of steps that look like a hang and
 * print as many lines.
 */
export const MAX_TIMER_STEPS = 10_000;

/** Compact spans for people: `2d`, `4h`, `1h30m`, `90s`. */
export function formatSpan(ms: number): string {
  if (ms === 0) return '0s';
  const units: Array<[string, number]> = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
    ['ms', 1],
  ];
  let rest = ms;
  const parts: string[] = [];
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * size;
  }
  return parts.join('');
}

function describeEvent(event: TimedEvent): string {
  switch (event.type) {
    case 'identify':
      return `identify ${Object.keys(event.traits).join(', ') || '(no traits)'}`;
    case 'track':
      return `track "${event.event}" ${JSON.stringify(event.properties)}`;
    case 'trigger':
      return `trigger ${JSON.stringify(event.data)}`;
  }
}

/**
 * Runs one customer through one journey on a fake clock with the journey harness: the script's
 * events at their times, the journey's timers firing at their due times, and every send
 * rendered through the real templates for the channel delivery would pick. Nothing is stored
 * or sent.
 *
 * @example
 * const script = SimulationScript.parse([{ at: '0s', type: 'track', event: 'Signed Up' }]);
 * const result = simulateJourney(welcome, script, { templates, renderer, settings, until: '40d', what: 'events' });
 * process.stdout.write(formatSimulation(result));
 */
export function simulateJourney(
  journey: Journey,
  script: SimulationScript,
  options: SimulationOptions,
): SimulationResult {
  const events = placeEvents(script, options.what);
  const start = Date.parse(script.start);
  // Waits until a local time fall back on the default zone (DEFAULT_TIMEZONE), as in the workers.
  const h = createJourneyHarness(journey, {
    messages: options.templates.catalog,
    start,
    timezone: options.settings.defaults.timezone,
  });
  const customer = script.customer;
  const steps: SimulationStep[] = [];
  // As the engine does: a `consent` trait is recorded answer by answer (each channel and topic
  // keeps its own), and kept out of the profile. (SimulationScript refused any it would not take.)
  const consent: Record<string, Record<string, unknown>> = Object.create(null) as Record<string, never>;
  const identify = (traits: Record<string, unknown>) => {
    const { consent: answers, ...rest } = traits;
    const parsed = ConsentTrait.safeParse(answers);
    if (parsed.success)
      for (const [channel, topics] of Object.entries(parsed.data))
        Object.assign((consent[channel] ??= Object.create(null) as Record<string, never>), topics);
    h.identify(customer, rest);
  };

  const step = (cause: string, act: () => void) => {
    const before = new Map(h.instances(customer).map((i) => [i.instanceId, i]));
    const sentBefore = h.sent(customer).length;
    const notesBefore = h.notes(customer).length;
    act();
    const changes = h
      .instances(customer)
      .filter((i) => {
        const was = before.get(i.instanceId);
        return !was || was.state !== i.state || was.status !== i.status;
      })
      .map((instance) => {
        const was = before.get(instance.instanceId);
        return was ? { instance, from: { state: was.state, status: was.status } } : { instance };
      });
    const notes = h
      .notes(customer)
      .slice(notesBefore)
      .map(({ customerId: _c, at: _a, ...note }) => note as Note);
    const sends = h
      .sent(customer)
      .slice(sentBefore)
      .map((send) => render(send, h.profile(customer), consent, options));
    steps.push({ at: h.clock.now(), cause, changes, notes, sends });
  };

  let timerSteps = 0;
  const capped = () => timerSteps >= MAX_TIMER_STEPS;
  /** Fires due timers one due time at a time, so each shows as its own step. */
  const runUntil = (time: number) => {
    for (;;) {
      if (capped()) return;
      const due = h
        .pendingTimers(customer)
        .filter((timer) => timer.dueAt <= time)
        .sort((a, b) => a.dueAt - b.dueAt);
      const first = due[0];
      if (!first) break;
      const firing = due.filter((timer) => timer.dueAt === first.dueAt);
      const label = firing.map((timer) => `after ${formatSpan(timer.delayMs)}`).join(', ');
      step(`timer ${label}`, () => h.advance(Math.max(0, first.dueAt - h.clock.now())));
      timerSteps++;
    }
    if (time > h.clock.now()) h.advance(time - h.clock.now());
  };

  if (Object.keys(script.profile).length > 0)
    step(`identify ${Object.keys(script.profile).join(', ')} (starting profile)`, () =>
      identify(script.profile),
    );
  for (const event of events) {
    runUntil(event.time);
    step(describeEvent(event), () => {
      if (event.type === 'identify') identify(event.traits);
      else if (event.type === 'track') h.track(customer, event.event, event.properties);
      else h.trigger(journey.id, customer, event.data);
    });
  }
  const last = h.clock.now();
  if (options.until !== undefined) runUntil(last + parseDuration(options.until));
  else {
    // Timer by timer, as each may start others; one due past the year is left pending, not the
    // earlier ones beside it.
    const cap = last + MAX_RUN_MS;
    while (!capped()) {
      const next = Math.min(...h.pendingTimers(customer).map((timer) => timer.dueAt));
      if (!(next <= cap)) break;
      runUntil(next);
    }
  }
  return {
    journey: `${journey.id}@${journey.version}`,
    customer,
    start,
    end: h.clock.now(),
    steps,
    pending: h.pendingTimers(customer).map((timer) => ({ dueAt: timer.dueAt, delayMs: timer.delayMs })),
    ...(capped() ? { timerStepsCapped: true as const } : {}),
  };
}

function render(
  send: HarnessSend,
  profile: Record<string, unknown>,
  consent: Record<string, unknown>,
  options: Pick<SimulationOptions, 'templates' | 'renderer' | 'settings'>,
): SimulatedSend {
  const message = options.templates.message(send.message);
  if (!message) return { ...send, outcome: 'skipped', reasons: [`message "${send.message}" does not exist`] };
  const choice = chooseChannel(
    options.renderer,
    message,
    send.channels,
    { ...profile, consent },
    options.settings,
  );
  if ('reasons' in choice) return { ...send, outcome: 'skipped', reasons: choice.reasons };
  const context = renderContextFor(
    message,
    {
      customerId: send.customerId,
      profile,
      trigger: send.trigger,
      event: send.event,
      data: send.data,
      journey: { id: send.journeyId, version: send.journeyVersion, state: send.state, stage: send.stage },
      variants: send.variants,
      now: send.at,
    },
    options.settings,
  );
  return {
    ...send,
    outcome: 'sent',
    via: choice.channel,
    to: describeAddress(choice.address),
    rendered: options.renderer.render(send.message, choice.channel, context),
    fellBack: choice.passed,
  };
}
