import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DURATION_FORMS, parseDuration } from '../duration.js';
import { ChorusError } from '../errors.js';
import type { MessageCatalog } from '../journey/validate-journey.js';
import { Topic } from '../policy/topic.js';
import type { RenderContext } from './rendered-message.js';
import { strictObject } from '../strict-object.js';

/** FCM keeps an undelivered message at most four weeks, its default too (`android.ttl`). */
export const MAX_PUSH_TTL_MS = 28 * 86_400_000;

/**
 * How long a push may wait for an offline device: a duration of whole seconds, up to four weeks;
 * `0` delivers now or never. Parsed to milliseconds.
 */
const PushTtl = z.union([z.string(), z.number()]).transform((input, ctx) => {
  let ms: number;
  try {
    ms = parseDuration(input);
  } catch {
    ctx.addIssue({ code: 'custom', message: `cannot be read as a duration; write ${DURATION_FORMS}` });
    return z.NEVER;
  }
  if (ms > MAX_PUSH_TTL_MS || ms % 1000 !== 0) {
    ctx.addIssue({
      code: 'custom',
      message: `${JSON.stringify(input)} is ${ms > MAX_PUSH_TTL_MS ? 'longer than the 4 weeks FCM keeps a message ("28d")' : 'not a whole number of seconds, which FCM and APNs count in'}`,
    });
    return z.NEVER;
  }
  return ms;
});

/**
 * Per-message options of the push channel (`"push"` in message.json), sent to FCM for Android,
 * APNs and web push alike.
 */
export const PushOptions = strictObject({
  /** Time to live (`"12h"`); unset, FCM's default of four weeks applies. */
  ttl: PushTtl.optional(),
  /**
   * Sends with the same key replace one another while waiting for the device (Android
   * `collapse_key`) and on the screen (APNs `apns-collapse-id`). Unset, none collapses.
   */
  collapseKey: z
    .string()
    .regex(
      /^[A-Za-z0-9._:-]{1,64}$/,
      'must be 1 to 64 letters, digits, ".", "_", ":" or "-" (APNs takes 64 bytes at most)',
    )
    .optional(),
});
export type PushOptions = z.infer<typeof PushOptions>;

/**
 * A core message: the proposition every channel variant must carry. Declared once, in
 * `templates/<id>/message.json`, beside that message's channel templates.
 */
export const CoreMessage = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes'),
  proposition: z.string().min(1),
  headline: z.string().min(1),
  cta: z.object({ label: z.string().min(1), url: z.url() }),
  tone: z.string().optional(),
  brand: z.string().optional(),
  /**
   * What every channel variant must carry when the headline itself is too long for some of
   * them (an SMS, a push title). Checked at load time instead of the headline.
   */
  keyPhrase: z.string().min(1).optional(),
  /** Where the webhook channel posts this message (a CRM, an ad audience, a chat app). */
  webhook: z.object({ url: z.url({ protocol: /^https?$/ }) }).optional(),
  /**
   * `marketing` (the default) needs consent and honours unsubscribes; `transactional` bypasses
   * both, but never a hard bounce. Checked at send time by the delivery policy.
   */
  topic: Topic.default('marketing'),
  /** Push channel options: time to live and collapse key (see {@link PushOptions}). */
  push: PushOptions.optional(),
});
export type CoreMessage = z.infer<typeof CoreMessage>;

/** The core message as templates see it (`message.*`). */
export function messageFields(core: CoreMessage): RenderContext['message'] {
  return {
    id: core.id,
    proposition: core.proposition,
    headline: core.headline,
    cta: core.cta,
    ...(core.brand === undefined ? {} : { brand: core.brand }),
    ...(core.tone === undefined ? {} : { tone: core.tone }),
  };
}

export class MessageDefinitionError extends ChorusError {
  /** Each problem on its own, when the message lists several (one per bad `message.json`). */
  readonly problems: readonly string[];
  constructor(message: string, options?: { cause?: unknown; problems?: readonly string[] }) {
    super('CHORUS_MESSAGE_INVALID', message, options);
    this.problems = options?.problems ?? [message];
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The text of a file under `templates/`: read errors (a folder where a file should be, a
 * symlink loop) and bytes that are not UTF-8 (which a lenient read would turn into U+FFFD
 * and send) become a {@link MessageDefinitionError} naming the file.
 */
export function readTemplateText(file: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
    throw new MessageDefinitionError(
      `${file} cannot be read (${code}). To fix: make it a readable file, or remove it.`,
      { cause },
    );
  }
  try {
    return utf8.decode(bytes);
  } catch (cause) {
    throw new MessageDefinitionError(`${file} is not valid UTF-8. To fix: save it as UTF-8.`, { cause });
  }
}

/**
 * Whether a file or folder is hidden (`.git`, `.vscode`, the `._name` files macOS writes beside
 * each file on some drives): an editor's or a system's, never a message or a template.
 */
export function isHidden(name: string): boolean {
  return name.startsWith('.');
}

/**
 * Reads and parses every `templates/<id>/message.json` of `dir`, sorted by id; folders starting
 * with `_` hold shared partials and are skipped, as are hidden ones.
 */
function readCoreMessages(dir: string): CoreMessage[] {
  if (!existsSync(dir)) return [];
  const folders = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('_') && !isHidden(entry.name))
    .map((entry) => entry.name)
    .sort();
  // Every folder is read before any problem is thrown, so that all of them are named at once.
  const messages: CoreMessage[] = [];
  const problems: MessageDefinitionError[] = [];
  for (const folder of folders) {
    try {
      messages.push(readCoreMessage(dir, folder));
    } catch (error) {
      if (!(error instanceof MessageDefinitionError)) throw error;
      problems.push(error);
    }
  }
  const [first] = problems;
  if (first && problems.length === 1) throw first;
  if (first)
    throw new MessageDefinitionError(problems.map((problem) => problem.message).join('\n'), {
      problems: problems.map((problem) => problem.message),
    });
  return messages;
}

function readCoreMessage(dir: string, folder: string): CoreMessage {
  const file = join(dir, folder, 'message.json');
  if (!existsSync(file)) {
    throw new MessageDefinitionError(
      `${file} is missing. To fix: declare the core message of ${join(dir, folder)}/ there.`,
    );
  }
  const text = readTemplateText(file);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new MessageDefinitionError(
      `${file} is not valid JSON: ${(cause as Error).message}. To fix: correct the JSON where the parser points.`,
      { cause },
    );
  }
  const parsed = CoreMessage.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new MessageDefinitionError(
      `${file} is invalid: ${fields}. To fix: correct the named fields (id, proposition, headline and cta.label and cta.url are required).`,
    );
  }
  if (parsed.data.id !== folder) {
    throw new MessageDefinitionError(
      `${file} declares id "${parsed.data.id}" but lives in ${join(dir, folder)}/. To fix: make them equal.`,
    );
  }
  return parsed.data;
}

/**
 * The core messages of a `templates/` folder: one sub-folder each, holding `message.json`. The
 * one reader of `message.json`: a `TemplateSet` is built on one and exposes it as
 * `templates.catalog`, so a process that renders reads each file once and passes that catalog
 * on as the engine's `messages`.
 *
 * @throws MessageDefinitionError from `fromDirectory()` when a message folder has no
 * `message.json`, or an invalid one.
 *
 * @example
 * const engine = createEngine({ redis, journeys, messages: CoreMessageCatalog.fromDirectory('templates') });
 */
export class CoreMessageCatalog implements MessageCatalog {
  readonly #messages: ReadonlyMap<string, CoreMessage>;

  constructor(
    messages: readonly CoreMessage[],
    /** The folder they were read from, named in the fix of a missing message. */
    readonly folder?: string,
  ) {
    this.#messages = new Map(messages.map((message) => [message.id, message]));
  }

  static fromDirectory(dir: string): CoreMessageCatalog {
    return new CoreMessageCatalog(readCoreMessages(dir), dir.replace(/\/+$/, '') || dir);
  }

  has(messageId: string): boolean {
    return this.#messages.has(messageId);
  }

  get(messageId: string): CoreMessage | undefined {
    return this.#messages.get(messageId);
  }

  ids(): string[] {
    return [...this.#messages.keys()];
  }
}
