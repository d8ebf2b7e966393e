import { assign, setup, type AnyStateMachine, type EventObject, type MachineContext } from 'xstate';
import { z } from 'zod';
import { ChorusError } from '../errors.js';
import type { WhenCapped } from '../runtime/command.js';
import { parseLocalTime, type LocalTime } from '../local-time.js';
import { LOCAL_TIME_SUFFIX, resolveDelays, type LocalTimeDelay } from './machine-walk.js';
import type { DurationInput } from '../duration.js';
import type { Objective } from '../analytics/objective.js';
import { JourneyMeta, type Channel, type ReentryPolicy } from './journey-schema.js';
import { assignVariant, type SplitWeights } from './split.js';
import type { Stage } from './stage.js';

/** What every journey instance knows: who it is for, what started it and the current profile. */
export interface JourneyContext<
  TTrigger = unknown,
  TProfile = unknown,
  TData = Record<string, unknown>,
> extends MachineContext {
  customerId: string;
  instanceId: string;
  journeyId: string;
  journeyVersion: number;
  /** The properties of the triggering event, or the data of an API trigger, parsed by its schema. */
  trigger: TTrigger;
  /** The customer's traits, parsed by the journey's profile schema, refreshed before every event. */
  profile: TProfile;
  /** Split assignments made so far: split id to variant. */
  variants: Record<string, string>;
  /** The journey's own state, typed by its `data` schema and changed with xstate's `assign`. */
  data: TData;
}

/** A customer event as a journey machine receives it. */
export interface JourneyEvent<
  TName extends string = string,
  TProperties = Record<string, unknown>,
> extends EventObject {
  type: TName;
  properties: TProperties;
  timestamp: number;
}

type EventSchemas = Record<string, z.ZodType>;
type EventsOf<E extends EventSchemas> = {
  [K in keyof E & string]: JourneyEvent<K, z.output<E[K]>>;
}[keyof E & string];

export interface SendParams {
  message: string;
  channels: readonly Channel[];
  whenCapped?: WhenCapped;
  cancelOnGoal?: boolean;
}

/** How one send behaves under the send-time policies. */
export interface SendOptions {
  /** When a frequency cap holds the send back: `wait` for the next allowed slot (default) or `skip` it. */
  whenCapped?: WhenCapped;
  /**
   * `true`: if the customer reaches the journey's goal after this send was made and before it
   * goes out (it waited out a quiet hour, a frequency cap or a queue backlog), it is not sent, and
   * is recorded `skipped` under the rule `journey-goal`. For messages the goal makes pointless,
   * such as a cart reminder with a coupon in a journey that goes on after the order. Sends of the
   * step that reached the goal, and all later ones, go out. Needs a `goal`; with `goal.exit` the
   * rule `journey-exit` already stops every send made before it. Default `false`: a send made
   * before the goal goes out (a welcome still queued when a shopper orders at once).
   *
   * @example
   * after: { '4h': { target: 'reminded', actions: j.send('cart-reminder', ['email'], { cancelOnGoal: true }) } }
   */
  cancelOnGoal?: boolean;
}

interface SplitParams {
  split: string;
  variant: string;
  weights: SplitWeights;
}

/** What `chorus.recordVariant` is given; `control` only carries the split's declared control to reports. */
export interface RecordVariantParams {
  split: string;
  variant: string;
  control?: string;
}

/** Action and guard names the runtime recognises in a transition's output. */
export const SEND_ACTION = 'chorus.send';
/** The guard of each arm of a split (j.split). */
export const SPLIT_GUARD = 'chorus.inVariant';

type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd' | 'w';
/**
 * The `after` keys a journey may use: `"90s"`, `"2d"`, `"1h30m"`, ISO 8601 `"P2D"`, or a number
 * of milliseconds. A typo such as `"2days"` is a compile error.
 */
export type DelayKey =
  | `${number}${DurationUnit}`
  | `${number}${DurationUnit}${number}${DurationUnit}`
  | `P${string}`
  | LocalTimeDelay;

function journeySetup<TContext extends JourneyContext, TEvent extends EventObject>() {
  return setup({
    // Tags are the funnel's stages, so a misspelt stage (`'awarness'`) is a compile error.
    types: { context: {} as TContext, events: {} as TEvent, input: {} as TContext, tags: {} as Stage },
    // Types only: the values are provided per machine by resolveDelays, from the keys it uses.
    delays: {} as Record<DelayKey, number>,
    actions: {
      // Executes nothing: the pure runtime reads it from the transition's actions and turns it into a delivery.
      [SEND_ACTION]: (_: unknown, _params: SendParams) => {},
      // `as never`: TypeScript cannot see that `variants` is a key of every TContext; it is, by the constraint.
      'chorus.recordVariant': assign(
        ({ context }, params: RecordVariantParams) =>
          ({ variants: { ...context.variants, [params.split]: params.variant } }) as never,
      ),
    },
    guards: {
      [SPLIT_GUARD]: ({ context }, params: SplitParams) =>
        assignVariant(context.customerId, context.journeyId, params.split, params.weights) === params.variant,
    },
  });
}

type JourneySetup<TContext extends JourneyContext, TEvent extends EventObject> = ReturnType<
  typeof journeySetup<TContext, TEvent>
>;

/** One arm of {@link JourneyBuilder.split}. */
export interface SplitArm {
  weight: number;
  target: string;
}

/** How a split's arms are read in the journey's report. */
export interface SplitOptions {
  /**
   * The arm the others are compared with (their lift and p-value): the one the test asks whether
   * the others beat, such as the letter without a coupon. Without it, the arm named `control`,
   * else the first other arm in alphabetical order, which may be the treatment.
   */
  control?: string;
}

/** The typed toolbox a journey's `machine` function receives. */
export interface JourneyBuilder<TContext extends JourneyContext, TEvent extends EventObject> {
  /**
   * xstate's `createMachine`, with the context, events, delays and Chorus actions already typed.
   * The context is built by the runtime from the trigger and the profile, so it is not written here.
   */
  createMachine(
    config: Omit<Parameters<JourneySetup<TContext, TEvent>['createMachine']>[0], 'context'>,
  ): AnyStateMachine;
  /**
   * An `after` key that waits until the next `time` (`"HH:MM"`, 24-hour) on the customer's own
   * clock: the `timezone` trait when it names an IANA zone, else the `deviceTimezone` trait (an
   * identify's `context.timezone`), else the engine's default time zone (see customerTimeZone).
   * The wait is counted from when the state is entered, and ends at the next such time after it: a
   * state entered at 10:00 sharp waits for 10:00 the next day. An identify that changes the
   * customer's clock moves the wait to the same time in the new zone, counted from the same entry
   * (at once when that has passed). A time the clocks skip that day (02:30 when
   * they spring forward) is reached when they jump past it (03:00); a time they show twice (01:30
   * when they fall back) is reached at its first showing.
   *
   * @example
   * after: { [j.atLocalTime('10:00')]: 'morning' } // the same as after: { '10:00 local': 'morning' }
   */
  atLocalTime(time: `${number}:${number}`): LocalTimeDelay;
  /**
   * Send one core message on the listed channels (in order of preference). A send that a
   * frequency cap holds back waits for the next allowed slot unless `whenCapped: 'skip'`: say
   * skip for messages that are stale once late, such as a cart reminder. `cancelOnGoal: true`
   * drops it when the customer reaches the journey's goal before it goes out.
   */
  send(
    message: string,
    channels: readonly Channel[],
    options?: SendOptions,
  ): { type: typeof SEND_ACTION; params: SendParams };
  /**
   * A random split, assigned deterministically by customer id. Use it as a state's `always`.
   * A holdout is an arm whose target sends nothing. `options.control` names the arm the report
   * compares the others with.
   */
  split(
    splitId: string,
    arms: Record<string, SplitArm>,
    options?: SplitOptions,
  ): Array<{
    guard: { type: typeof SPLIT_GUARD; params: SplitParams };
    target: string;
    actions: { type: 'chorus.recordVariant'; params: RecordVariantParams };
  }>;
}

export interface JourneyDefinition<
  TTrigger extends z.ZodType,
  TProfile extends z.ZodType,
  TEvents extends EventSchemas,
  TData extends z.ZodType<Record<string, unknown>>,
  TMachine extends AnyStateMachine,
> {
  id: string;
  version: number;
  description?: string;
  /** A `track` event that enrols the customer, or `api` for journeys entered through the trigger API. */
  trigger: { event: string; properties?: TTrigger } | { api: TTrigger };
  /** The traits this journey reads. Fields it does not list are not passed to it. */
  profile?: TProfile;
  /** Events the journey reacts to, with the schema of their properties. */
  events?: TEvents;
  /** The journey's own context, starting from `data.parse({})`: give every field a default or make it optional. */
  data?: TData;
  /** The conversion event. `exit: true` ends the instance when it arrives. */
  goal?: {
    event: string;
    exit?: boolean;
    /** The attribution window: messages this long before a conversion share its credit. Default `7d`. */
    window?: DurationInput;
  };
  /** A SMART objective, e.g. `{ metric: 'conversions', target: 300, start: '2026-10-01', deadline: '2026-12-31' }`. */
  objective?: z.input<typeof Objective>;
  /** Events that end an instance in any state. */
  exitOn?: string[];
  /** Whether a customer may enter again: `never`, `after-exit` (default) or `always` (concurrently). */
  reentry?: ReentryPolicy;
  machine: (
    j: JourneyBuilder<
      JourneyContext<z.output<TTrigger>, z.output<TProfile>, z.output<TData>>,
      EventsOf<TEvents>
    >,
  ) => TMachine;
}

/** A defined journey, ready for a {@link JourneyCatalog}. */
export interface Journey {
  readonly id: string;
  readonly version: number;
  readonly description?: string;
  readonly trigger: { kind: 'event'; event: string; schema: z.ZodType } | { kind: 'api'; schema: z.ZodType };
  readonly profile: z.ZodType;
  readonly events: Readonly<Record<string, z.ZodType>>;
  readonly data: z.ZodType;
  readonly goal?: { event: string; exit: boolean; windowMs: number };
  readonly objective?: Objective;
  readonly exitOn: readonly string[];
  readonly reentry: ReentryPolicy;
  readonly machine: AnyStateMachine;
  /** `after` waits until a local time (`j.atLocalTime`), by the event type of their timer. */
  readonly localTimeWaits: Readonly<Record<string, LocalTime>>;
  /** Delays that could not be read; reported by validation, since xstate would fire them at once. */
  readonly delayProblems: ReadonlyArray<{ state: string; delay: string; message: string }>;
}

const JOURNEY = Symbol.for('chorus.journey');

/** Whether a value was made by {@link defineJourney}: how journey folders are scanned. */
export function isJourney(value: unknown): value is Journey {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[JOURNEY] === true;
}

export class JourneyDefinitionError extends ChorusError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CHORUS_JOURNEY_DEFINITION', message, options);
  }
}

function formatZodIssues(error: z.ZodError): string {
  // Without their own full stops: the text goes on with "To fix: …".
  return error.issues
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message.replace(/\.+$/, '')}`)
    .join('; ');
}

/**
 * Runs the author's machine factory. xstate reports a machine it cannot build (an initial state
 * or a target that does not exist) with a plain Error; it becomes a JourneyDefinitionError that
 * names the journey, keeping xstate's words, which name the state.
 */
function buildMachine<T>(journeyId: string, build: () => T): T {
  try {
    return build();
  } catch (cause) {
    if (cause instanceof ChorusError) throw cause;
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new JourneyDefinitionError(
      `Journey "${journeyId}": its machine cannot be built: ${message.replace(/\n/g, ' ').replace(/\.+$/, '')}. ` +
        'To fix: correct the machine config (state names, initial state and targets).',
      { cause },
    );
  }
}

/**
 * Refuses a split that cannot share customers out as written: with no arm the customers would
 * wait in its state for ever, and a weight that is negative or not a number (one read from
 * configuration that was not set), or weights adding up to 0 or past the largest number, would
 * send every customer to the last arm without a word. An arm of weight 0 beside others is a paused arm, and is kept.
 */
function checkSplitWeights(journeyId: string, splitId: string, weights: SplitWeights): void {
  const refuse = (problem: string, fix: string) => {
    throw new JourneyDefinitionError(
      `Journey "${journeyId}": split "${splitId}" ${problem}. To fix: ${fix}.`,
    );
  };
  // Its arms are counted as `<split>=<arm>`: an `=` in the id would move the border.
  if (splitId.includes('='))
    refuse('has an "=" in its id', 'name the split without one, such as "price-low"');
  if (weights.length === 0) refuse('has no arms', 'give it at least one arm, { weight, target }');
  for (const [variant, weight] of weights)
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0)
      refuse(
        `arm "${variant}" has weight ${String(weight)}`,
        'give every arm a weight of 0 or more, such as 45',
      );
  if (weights.every(([, weight]) => weight === 0))
    refuse('has weights that add up to 0', 'give at least one arm a weight above 0');
  // Each arm's share is its weight over the total: a total past the largest number is Infinity,
  // every share 0, and every customer would fall to the last arm.
  const total = weights.reduce((sum, [, weight]) => sum + weight, 0);
  if (!Number.isFinite(total))
    refuse(
      `has weights that add up to ${total}, past the largest number`,
      'give the weights as shares of a smaller total, such as 45, 45 and 10',
    );
}

/**
 * Refuses a declared control the report could not compare with: a name that is no arm (a typo
 * would silently fall back on the alphabetical rule) or the holdout, which receives nothing.
 */
function checkSplitControl(
  journeyId: string,
  splitId: string,
  arms: readonly string[],
  control: string,
): void {
  const receiving = arms.filter((arm) => arm !== 'holdout');
  if (control === 'holdout' || !arms.includes(control))
    throw new JourneyDefinitionError(
      `Journey "${journeyId}": split "${splitId}" names ${JSON.stringify(control)} as its control, ` +
        `${control === 'holdout' ? 'the holdout, which receives nothing to compare' : 'which is not one of its arms'}. ` +
        `To fix: name one of ${receiving.map((arm) => JSON.stringify(arm)).join(', ')}.`,
    );
}

/**
 * Declares a journey: metadata plus an xstate machine whose every state carries one stage tag.
 *
 * @example
 * export const welcome = defineJourney({
 *   id: 'welcome', version: 1,
 *   trigger: { event: 'Signed Up', properties: z.object({ plan: z.string() }) },
 *   machine: (j) => j.createMachine({
 *     initial: 'greet',
 *     states: {
 *       greet: { tags: 'awareness', entry: j.send('welcome', ['email']), after: { '2d': 'done' } },
 *       done: { tags: 'awareness', type: 'final' },
 *     },
 *   }),
 * });
 */
export function defineJourney<
  TTrigger extends z.ZodType = z.ZodObject<Record<string, never>>,
  TProfile extends z.ZodType = z.ZodRecord<z.ZodString, z.ZodUnknown>,
  TEvents extends EventSchemas = Record<never, z.ZodType>,
  TData extends z.ZodType<Record<string, unknown>> = z.ZodObject<Record<string, never>>,
  TMachine extends AnyStateMachine = AnyStateMachine,
>(definition: JourneyDefinition<TTrigger, TProfile, TEvents, TData, TMachine>): Journey {
  const parsed = JourneyMeta.safeParse(definition);
  if (!parsed.success) {
    throw new JourneyDefinitionError(
      `Journey ${JSON.stringify(definition.id)} has invalid metadata: ${formatZodIssues(parsed.error)}. ` +
        'To fix: correct the named fields in the defineJourney() call.',
    );
  }
  const meta = parsed.data;
  const initialData = definition.data?.safeParse({});
  if (initialData && !initialData.success) {
    throw new JourneyDefinitionError(
      `Journey "${meta.id}" cannot start its data from {}: ${formatZodIssues(initialData.error)}. ` +
        'To fix: give those fields a .default() or make them .optional().',
    );
  }
  const base = journeySetup<JourneyContext, EventObject>();
  const builder: JourneyBuilder<JourneyContext, EventObject> = {
    // `as never` erases xstate's const-generic config type, which JourneyBuilder restores for authors.
    createMachine: (config) =>
      base.createMachine({
        id: meta.id,
        ...config,
        context: ({ input }: { input: JourneyContext }) => input,
      } as never) as unknown as AnyStateMachine,
    send: (message, channels, options) => ({
      type: SEND_ACTION,
      params: {
        message,
        channels,
        ...(options?.whenCapped === undefined ? {} : { whenCapped: options.whenCapped }),
        // Kept as given, whatever its type: validateJourney refuses anything but a boolean.
        ...(options?.cancelOnGoal === undefined || options.cancelOnGoal === false
          ? {}
          : { cancelOnGoal: options.cancelOnGoal }),
      },
    }),
    atLocalTime: (time) => {
      if (!parseLocalTime(time))
        throw new JourneyDefinitionError(
          `Journey "${meta.id}" waits until local time ${JSON.stringify(time)}, which is not a time of day. ` +
            'To fix: write it as HH:MM on a 24-hour clock, such as "09:30" or "18:00".',
        );
      return `${time}${LOCAL_TIME_SUFFIX}` as LocalTimeDelay;
    },
    split: (splitId, arms, options) => {
      const weights: SplitWeights = Object.entries(arms).map(
        ([variant, arm]) => [variant, arm.weight] as const,
      );
      checkSplitWeights(meta.id, splitId, weights);
      const control = options?.control;
      if (control !== undefined) checkSplitControl(meta.id, splitId, Object.keys(arms), control);
      return Object.entries(arms).map(([variant, arm]) => ({
        guard: { type: SPLIT_GUARD, params: { split: splitId, variant, weights } },
        target: arm.target,
        actions: {
          type: 'chorus.recordVariant' as const,
          params: { split: splitId, variant, ...(control === undefined ? {} : { control }) },
        },
      }));
    },
  };
  const { machine, problems, localTimeWaits } = buildMachine(meta.id, () =>
    resolveDelays(definition.machine(builder as never)),
  );
  const trigger: Journey['trigger'] =
    'api' in meta.trigger
      ? { kind: 'api', schema: meta.trigger.api }
      : { kind: 'event', event: meta.trigger.event, schema: meta.trigger.properties ?? z.object({}).loose() };
  return Object.freeze({
    [JOURNEY]: true,
    id: meta.id,
    version: meta.version,
    ...(meta.description === undefined ? {} : { description: meta.description }),
    trigger,
    profile: definition.profile ?? z.record(z.string(), z.unknown()),
    events: { ...definition.events },
    data: definition.data ?? z.object({}),
    ...(meta.goal === undefined
      ? {}
      : { goal: { event: meta.goal.event, exit: meta.goal.exit, windowMs: meta.goal.window } }),
    ...(meta.objective === undefined ? {} : { objective: meta.objective }),
    exitOn: meta.exitOn,
    reentry: meta.reentry,
    machine,
    localTimeWaits,
    delayProblems: problems,
  });
}
