import { describe, expect, it } from 'vitest';
import { formatSimulation } from '../../engine/cli/format-simulation.js';
import {
  formatSpan,
  MAX_TIMER_STEPS,
  MAX_UNTIL_MS,
  simulateJourney,
} from '../../engine/cli/simulate-journey.js';
import { SimulationScript } from '../../engine/cli/simulation-script.js';
import { defineJourney, InvalidInputError, loadTemplates, MessageRenderer } from '../../engine/index.js';
import { morningReminder } from '../../docs/examples/morning-journey.js';
import { teaWelcome } from '../fixtures/cli/journeys/tea-welcome.js';

const templates = loadTemplates('test/fixtures/cli/templates', { journeys: [teaWelcome] });
const options = {
  templates,
  renderer: new MessageRenderer(templates),
  settings: {
    defaults: { locale: 'en-US', timezone: 'UTC' },
    unsubscribe: { baseUrl: 'https://api.example.com', secret: 'a-secret-of-sixteen-chars' },
    doubleOptIn: false,
  },
  what: 'events file',
};
const day = 86_400_000;

function simulate(script: unknown, until?: string) {
  return simulateJourney(teaWelcome, SimulationScript.parse(script), {
    ...options,
    ...(until ? { until } : {}),
  });
}

describe('simulateJourney', () => {
  it('shows each transition with its time and renders every send for the channel delivery picks', () => {
    const result = simulate({
      customer: 'ada',
      profile: { firstName: 'Ada', email: 'ada@example.com' },
      start: '2026-03-01T09:00:00Z',
      events: [{ at: '0s', type: 'track', event: 'Signed Up', properties: { plan: 'pro' } }],
    });
    const steps = result.steps.map((s) => ({
      after: s.at - result.start,
      cause: s.cause,
      states: s.changes.map((c) => `${c.from?.state ?? '(new)'} > ${c.instance.state} ${c.instance.status}`),
      sends: s.sends.map((send) =>
        send.outcome === 'sent' && send.rendered.channel === 'email'
          ? `${send.message} ${send.via} ${send.to}: ${send.rendered.subject}`
          : send.message,
      ),
    }));
    expect(steps).toEqual([
      { after: 0, cause: 'identify firstName, email (starting profile)', states: [], sends: [] },
      {
        after: 0,
        cause: 'track "Signed Up" {"plan":"pro"}',
        states: ['(new) > welcomed active'],
        sends: ['welcome email ada@example.com: Welcome to the circle, Ada'],
      },
      {
        after: 2 * day,
        cause: 'timer after 2d',
        states: ['welcomed > nudged active'],
        sends: ['nudge email ada@example.com: Still looking for your blend?'],
      },
      { after: 3 * day, cause: 'timer after 1d', states: ['nudged > lapsed done'], sends: [] },
    ]);
    expect(result.pending).toEqual([]);
  });

  it('renders with the traits the customer has at send time, and falls back as delivery does', () => {
    const result = simulate([
      { at: '0s', type: 'track', event: 'Signed Up' },
      {
        at: '+1d',
        type: 'identify',
        traits: { phone: '+15550100', firstName: 'Bo', consent: { sms: { marketing: true } } },
      },
    ]);
    const sends = result.steps.flatMap((s) => s.sends);
    expect(sends[0]).toMatchObject({ message: 'welcome', outcome: 'skipped' });
    expect(sends[0]?.outcome === 'skipped' && sends[0].reasons).toEqual([
      'email: the customer has no email address',
    ]);
    expect(sends[1]).toMatchObject({ message: 'nudge', outcome: 'sent', via: 'sms', to: '+15550100' });
    expect(sends[1]?.outcome === 'sent' && sends[1].rendered).toMatchObject({
      channel: 'sms',
      body: expect.stringMatching(
        /^Hi Bo! Still looking for your blend\? https:\/\/example\.com\/quiz\?utm_/,
      ),
    });
  });

  it('leaves out a channel the consent trait does not allow, as the consent rule does', () => {
    const result = simulate([
      { at: '0s', type: 'track', event: 'Signed Up' },
      { at: '+1d', type: 'identify', traits: { phone: '+15550100', firstName: 'Bo' } },
    ]);
    const nudge = result.steps.flatMap((s) => s.sends).find((send) => send.message === 'nudge');
    expect(nudge).toMatchObject({ outcome: 'skipped' });
    expect(nudge?.outcome === 'skipped' && nudge.reasons).toContain(
      'sms: no sms marketing consent on record: SMS marketing needs an explicit grant',
    );
  });

  it('keeps each consent answer, as the engine does, when a later identify gives another', () => {
    const result = simulate([
      { at: '0s', type: 'track', event: 'Signed Up' },
      { at: '+1h', type: 'identify', traits: { phone: '+15550100', consent: { sms: { marketing: true } } } },
      { at: '+1h', type: 'identify', traits: { consent: { email: { marketing: false } } } },
    ]);
    const nudge = result.steps.flatMap((s) => s.sends).find((send) => send.message === 'nudge');
    expect(nudge).toMatchObject({ outcome: 'sent', via: 'sms' });
  });

  it('stops --until after the last event and lists the timers still pending', () => {
    const result = simulate(
      {
        start: '2026-01-01T00:00:00Z',
        events: [{ at: '2026-01-01T10:00:00Z', type: 'track', event: 'Signed Up' }],
      },
      '1d',
    );
    expect(result.end - result.start).toBe(10 * 3_600_000 + day);
    expect(result.steps.map((s) => s.cause)).toEqual(['track "Signed Up" {}']);
    expect(result.pending.map((t) => t.dueAt - result.start)).toEqual([10 * 3_600_000 + 2 * day]);
    expect(formatSimulation(result)).toContain('pending: timer after 2d, due at +2d10h');
  });

  it('lists the pending timers soonest first, whatever order the journey set them in', () => {
    const result = simulate(
      {
        start: '2026-01-01T00:00:00Z',
        events: [{ at: '2026-01-01T10:00:00Z', type: 'track', event: 'Signed Up' }],
      },
      '1d',
    );
    const start = result.start;
    const shuffled = {
      ...result,
      pending: [
        { dueAt: start + 5 * day, delayMs: 5 * day },
        { dueAt: start + 2 * day, delayMs: 2 * day },
        { dueAt: start + 3 * day, delayMs: 3 * day },
      ],
    };
    const listed = formatSimulation(shuffled)
      .split('\n')
      .filter((line) => line.includes('pending:'))
      .map((line) => /after (\S+),/.exec(line)?.[1]);
    expect(listed).toEqual(['2d', '3d', '5d']);
  });

  it('without --until, fires the timers due within the year even when another waits longer', () => {
    // The machine's own wait of 400 days runs beside the states' short ones from entry on.
    const patient = defineJourney({
      id: 'patient',
      version: 1,
      trigger: { event: 'Signed Up' },
      machine: (j) =>
        j.createMachine({
          initial: 'waiting',
          after: { '400d': '.forgotten' },
          states: {
            waiting: { tags: 'awareness', after: { '1d': 'reminded' } },
            reminded: { tags: 'consideration', after: { '2d': 'done' } },
            forgotten: { tags: 'consideration', type: 'final' },
            done: { tags: 'decision', type: 'final' },
          },
        }),
    });
    const result = simulateJourney(
      patient,
      SimulationScript.parse([{ at: '0s', type: 'track', event: 'Signed Up' }]),
      options,
    );
    expect(result.steps.map((s) => [s.at - result.start, s.cause])).toEqual([
      [0, 'track "Signed Up" {}'],
      [day, 'timer after 1d'],
      [3 * day, 'timer after 2d'],
    ]);
    expect(result.pending).toEqual([]);
  });

  it('stops a journey whose wait loops after MAX_TIMER_STEPS timer steps, and says so', () => {
    const ticking = defineJourney({
      id: 'ticking',
      version: 1,
      trigger: { event: 'Signed Up' },
      machine: (j) =>
        j.createMachine({
          initial: 'tick',
          states: {
            tick: { tags: 'awareness', after: { '1s': 'tock' } },
            tock: { tags: 'awareness', after: { '1s': 'tick' } },
          },
        }),
    });
    const script = SimulationScript.parse([{ at: '0s', type: 'track', event: 'Signed Up' }]);
    for (const until of [undefined, '30d']) {
      const result = simulateJourney(ticking, script, { ...options, ...(until ? { until } : {}) });
      expect(result.steps).toHaveLength(1 + MAX_TIMER_STEPS);
      expect(result.timerStepsCapped).toBe(true);
      expect(formatSimulation(result)).toContain(
        '(stopped after 10,000 timer steps: the journey keeps setting timers; pass --until to choose how far to run)',
      );
    }
  });

  it('prints a timeline with times, state changes, and each message in full', () => {
    const text = formatSimulation(
      simulate({
        profile: { email: 'cy@example.com' },
        events: [
          { at: '0s', type: 'track', event: 'Signed Up' },
          { at: '+3h', type: 'track', event: 'Product Viewed', properties: { name: 'Sencha' } },
          { at: '+1h', type: 'track', event: 'Order Completed' },
        ],
      }),
    );
    expect(text).toContain('+0s  2026-01-01T00:00:00.000Z  track "Signed Up" {}');
    expect(text).toContain('entered tea-welcome@2 → welcomed (awareness)');
    expect(text).toMatch(
      /send "welcome" \(in state welcomed, channels email\) via email to cy@example.com\n {6}│ Subject: Welcome to the circle, friend\n/,
    );
    expect(text).toContain(
      '+3h  2026-01-01T03:00:00.000Z  track "Product Viewed" {"name":"Sencha"}\n    welcomed → interested (decision)',
    );
    expect(text).toContain('instance done (goal)');
    expect(text).toContain('Stopped at +4h (2026-01-01T04:00:00.000Z): 1 message(s) sent, 0 skipped.');
  });

  it('refuses events out of time order, naming the event', () => {
    const script = SimulationScript.parse({
      start: '2026-01-05T00:00:00Z',
      events: [
        { at: '1d', type: 'track', event: 'Signed Up' },
        { at: '2026-01-05T12:00:00Z', type: 'track', event: 'Product Viewed', properties: { name: 'x' } },
      ],
    });
    expect(() => simulateJourney(teaWelcome, script, options)).toThrow(InvalidInputError);
    expect(() => simulateJourney(teaWelcome, script, options)).toThrow(
      /events\.1\.at: 2026-01-05T12:00:00\.000Z is before/,
    );
  });

  it('starts at the first event when it is dated and no start is given, so events from before 2026 simulate', () => {
    const result = simulate([
      { at: '2025-06-01T09:00:00Z', type: 'track', event: 'Signed Up' },
      { at: '+1h', type: 'track', event: 'Product Viewed', properties: { name: 'Sencha' } },
    ]);
    expect(result.start).toBe(Date.parse('2025-06-01T09:00:00Z'));
    expect(result.steps.slice(0, 2).map((step) => new Date(step.at).toISOString())).toEqual([
      '2025-06-01T09:00:00.000Z',
      '2025-06-01T10:00:00.000Z',
    ]);
    // A start given is kept, and an event before it is named as before the start, not an event.
    const early = SimulationScript.parse({
      start: '2026-01-05T00:00:00Z',
      events: [{ at: '2026-01-04T12:00:00Z', type: 'track', event: 'Signed Up' }],
    });
    expect(() => simulateJourney(teaWelcome, early, options)).toThrow(
      'events.0.at: 2026-01-04T12:00:00.000Z is before the start (2026-01-05T00:00:00.000Z); give a "start" no later than the first event',
    );
  });

  it('refuses an event after the year 9999, naming it, so every time printed is a date', () => {
    const script = SimulationScript.parse([{ at: '100000000d', type: 'track', event: 'Signed Up' }]);
    expect(() => simulateJourney(teaWelcome, script, options)).toThrow(
      /events\.0\.at: falls after 9999-12-31T23:59:59\.999Z/,
    );
    // The last instant it takes, a century of --until after it still prints.
    const last = SimulationScript.parse([
      { at: '9999-12-31T23:59:59.999Z', type: 'track', event: 'Signed Up' },
    ]);
    const result = simulateJourney(teaWelcome, last, { ...options, until: `${MAX_UNTIL_MS}` });
    expect(formatSimulation(result)).toContain('Stopped at +');
  });
});

describe('SimulationScript', () => {
  it('names every bad field and what was expected', () => {
    const parsed = SimulationScript.safeParse({
      profile: 'ada',
      events: [
        { at: 'tomorrow', type: 'track' },
        { at: '1d', type: 'page' },
      ],
    });
    expect(parsed.success).toBe(false);
    const issues = parsed.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues).toEqual([
      expect.stringMatching(/^profile: .*expected record/),
      'events.0.at: expected "+2d" (after the previous event), "2d" (after the start) or an ISO instant, got "tomorrow"',
      expect.stringMatching(/^events\.0\.event: .*expected string/),
      "events.1.type: Invalid discriminator value. Expected 'identify' | 'track' | 'trigger'",
    ]);
  });

  it('names a field it does not know, with the fields it does, rather than drop a misspelt one', () => {
    const parsed = SimulationScript.safeParse({
      customer: 'ada',
      profle: { email: 'ada@example.com' },
      events: [{ at: '0s', type: 'track', event: 'Signed Up', propertes: { plan: 'pro' } }],
    });
    expect(parsed.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'events.0: unknown field(s) "propertes"; the fields are at, type, event, properties',
      ': unknown field(s) "profle"; the fields are customer, profile, start, events',
    ]);
  });

  it('refuses a customer id, traits and an event name the engine’s identify and track would refuse, naming them, instead of simulating them', () => {
    const parsed = SimulationScript.safeParse({
      customer: 'a'.repeat(257),
      profile: { email: 'Ada <ada@example.com>' },
      events: [
        { at: '0s', type: 'identify', traits: { consent: { sms: { marketing: 'yes' } } } },
        { at: '0s', type: 'track', event: 'x'.repeat(201) },
      ],
    });
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual([
      'customer',
      'profile.email',
      'events.0.traits.consent.sms.marketing',
      'events.1.event',
    ]);
  });

  it('reads an instant as start does: with its offset, on a day the calendar has, and names the offset when it is missing', () => {
    const at = (value: string) =>
      SimulationScript.safeParse([{ at: value, type: 'track', event: 'Signed Up' }]);
    expect(at('2026-01-04T12:00:00+08:00').data?.events[0]?.at).toEqual({
      kind: 'absolute',
      ms: Date.parse('2026-01-04T04:00:00Z'),
    });
    // Without an offset the time would be read in the zone of whichever machine runs the simulation.
    expect(at('2026-01-04T12:00:00').error?.issues.map((i) => i.message)).toEqual([
      '"2026-01-04T12:00:00" is not an ISO 8601 instant with its offset, such as 2026-01-04T12:00:00Z or 2026-01-04T12:00:00+08:00',
    ]);
    // Date.parse would roll it over to 2 March.
    expect(at('2026-02-30T12:00:00Z').success).toBe(false);
    // start is read the same way, and says so in the same words.
    const start = (value: string) =>
      SimulationScript.safeParse({ start: value, events: [{ at: '0s', type: 'track', event: 'Signed Up' }] });
    expect(
      start('2026-01-04T12:00:00').error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
    ).toEqual([
      'start: "2026-01-04T12:00:00" is not an ISO 8601 instant with its offset, such as 2026-01-04T12:00:00Z or 2026-01-04T12:00:00+08:00',
    ]);
    expect(start('2026-01-04T12:00:00+08:00').data?.start).toBe('2026-01-04T12:00:00+08:00');
  });
});

describe('formatSpan', () => {
  it('writes spans the way journeys write delays', () => {
    expect([0, 90_000, 4 * 3_600_000, 5_400_000, 2 * day + 1].map(formatSpan)).toEqual([
      '0s',
      '1m30s',
      '4h',
      '1h30m',
      '2d1ms',
    ]);
  });
});

describe('simulateJourney and the default time zone', () => {
  const catalog = loadTemplates('templates', { journeys: [morningReminder] });
  const at = (timezone: string) =>
    simulateJourney(
      morningReminder,
      SimulationScript.parse({
        customer: 'ada',
        profile: { email: 'ada@example.com' },
        start: '2026-03-01T09:00:00Z',
        events: [{ at: '0s', type: 'track', event: 'Product Added', properties: { name: 'Oolong' } }],
      }),
      {
        ...options,
        templates: catalog,
        renderer: new MessageRenderer(catalog),
        settings: { ...options.settings, defaults: { locale: 'en-US', timezone } },
        until: '0s',
      },
    ).pending.map((timer) => new Date(timer.dueAt).toISOString());

  it('waits until 10:00 in DEFAULT_TIMEZONE for a customer whose profile names no zone', () => {
    expect(at('UTC')).toEqual(['2026-03-01T10:00:00.000Z']);
    // 09:00 UTC is 17:00 in Shanghai, so the next 10:00 there is 02:00 UTC the next day.
    expect(at('Asia/Shanghai')).toEqual(['2026-03-02T02:00:00.000Z']);
  });
});
