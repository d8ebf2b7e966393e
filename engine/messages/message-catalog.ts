import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ChorusError } from '../errors.js';
import type { MessageCatalog } from '../journey/validate-journey.js';
import type { RenderContext } from './rendered-message.js';

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
  constructor(message: string, options?: { cause?: unknown }) {
    super('CHORUS_MESSAGE_INVALID', message, options);
  }
}

/** The core messages of a `templates/` folder: one sub-folder each, holding `message.json`. */
export class CoreMessageCatalog implements MessageCatalog {
  readonly #messages: ReadonlyMap<string, CoreMessage>;

  constructor(messages: readonly CoreMessage[]) {
    this.#messages = new Map(messages.map((message) => [message.id, message]));
  }

  static fromDirectory(dir: string): CoreMessageCatalog {
    if (!existsSync(dir)) return new CoreMessageCatalog([]);
    const messages: CoreMessage[] = [];
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('_')) continue;
      const file = join(dir, entry.name, 'message.json');
      if (!existsSync(file)) {
        throw new MessageDefinitionError(
          `${file} is missing. To fix: declare the core message of templates/${entry.name}/ there.`,
        );
      }
      let json: unknown;
      try {
        json = JSON.parse(readFileSync(file, 'utf8'));
      } catch (cause) {
        throw new MessageDefinitionError(`${file} is not valid JSON: ${(cause as Error).message}`, { cause });
      }
      const parsed = CoreMessage.safeParse(json);
      if (!parsed.success) {
        const fields = parsed.error.issues
          .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
          .join('; ');
        throw new MessageDefinitionError(`${file} is invalid: ${fields}.`);
      }
      if (parsed.data.id !== entry.name) {
        throw new MessageDefinitionError(
          `${file} declares id "${parsed.data.id}" but lives in templates/${entry.name}/. To fix: make them equal.`,
        );
      }
      messages.push(parsed.data);
    }
    return new CoreMessageCatalog(messages);
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
