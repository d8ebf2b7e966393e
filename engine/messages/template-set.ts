import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Channel } from '../journey/journey-schema.js';
import { parseTemplate, type TemplateMode } from './handlebars-env.js';
import { CoreMessageCatalog, isHidden, readTemplateText, type CoreMessage } from './message-catalog.js';

/** One template file of a channel, named by the file without `.hbs`. */
export type TemplateField =
  | 'email.subject'
  | 'email.html'
  | 'email.text'
  | 'sms'
  | 'push.title'
  | 'push.body'
  | 'in-app.title'
  | 'in-app.body'
  | 'webhook.json';

/** The files each channel needs, the ones it may have, and how each is escaped. */
export const CHANNEL_TEMPLATES: Readonly<
  Record<Channel, { required: readonly TemplateField[]; optional: readonly TemplateField[] }>
> = {
  email: { required: ['email.subject', 'email.html'], optional: ['email.text'] },
  sms: { required: ['sms'], optional: [] },
  push: { required: ['push.title', 'push.body'], optional: [] },
  'in-app': { required: ['in-app.body'], optional: ['in-app.title'] },
  webhook: { required: ['webhook.json'], optional: [] },
};

/**
 * Subjects, SMS, push and text parts are plain text, so `'` must stay `'`; HTML and the in-app
 * inbox (shown in an app's web view) are escaped; webhooks are JSON, escaped by `{{json}}`.
 */
export const FIELD_MODES: Readonly<Record<TemplateField, TemplateMode>> = {
  'email.subject': 'text',
  'email.html': 'html',
  'email.text': 'text',
  sms: 'text',
  'push.title': 'text',
  'push.body': 'text',
  'in-app.title': 'html',
  'in-app.body': 'html',
  'webhook.json': 'json',
};

/** The brand folder's layouts, registered as partials like every `.hbs` there. */
export const LAYOUTS = { html: 'layout.html', text: 'layout.text' } as const;
export const BRAND_DIR = '_brand';

/** A file a channel renders from: one of its own templates, or a layout wrapping them. */
export type TemplateSlot = TemplateField | (typeof LAYOUTS)[keyof typeof LAYOUTS];

export function modeOf(slot: TemplateSlot): TemplateMode {
  return slot === LAYOUTS.html ? 'html' : slot === LAYOUTS.text ? 'text' : FIELD_MODES[slot];
}

/** One template file as read from disk: its source and, unless it does not parse, its AST. */
export interface TemplateFile {
  /** The path shown in problems: relative to the working directory, e.g. `templates/welcome/sms.hbs`. */
  readonly path: string;
  readonly source: string;
  readonly ast?: hbs.AST.Program;
  /** Handlebars' parse error, when the file is not a valid template. */
  readonly syntaxError?: string;
}

/** A file the loader found wrong before any check ran: unknown, or a channel missing a file. */
export interface TemplateLoadIssue {
  message?: string;
  channel?: Channel;
  file: string;
  text: string;
}

interface MessageTemplates {
  readonly files: ReadonlyMap<TemplateField, TemplateFile>;
  readonly channels: readonly Channel[];
}

const FIELD_NAMES = new Set<string>(Object.keys(FIELD_MODES));

function readTemplate(path: string): TemplateFile {
  const source = readTemplateText(path);
  const shown = relative(process.cwd(), path) || path;
  try {
    return { path: shown, source, ast: parseTemplate(source) };
  } catch (error) {
    return { path: shown, source, syntaxError: (error as Error).message };
  }
}

/**
 * Every core message of a `templates/` folder with its channel templates, and the brand partials
 * of `templates/_brand/`. Templates exist only as read from these files: there is no way to add
 * one from a string. Load with {@link loadTemplates} to have them checked.
 */
export class TemplateSet {
  readonly dir: string;
  /** The core messages, parsed once from `message.json`: pass it as the engine's `messages`. */
  readonly catalog: CoreMessageCatalog;
  readonly partials: ReadonlyMap<string, TemplateFile>;
  /** Unknown files and channels with a file missing, found while loading. */
  readonly loadIssues: readonly TemplateLoadIssue[];
  readonly #messages: ReadonlyMap<string, MessageTemplates>;

  private constructor(
    dir: string,
    catalog: CoreMessageCatalog,
    messages: ReadonlyMap<string, MessageTemplates>,
    partials: ReadonlyMap<string, TemplateFile>,
    loadIssues: readonly TemplateLoadIssue[],
  ) {
    this.dir = dir;
    this.catalog = catalog;
    this.#messages = messages;
    this.partials = partials;
    this.loadIssues = loadIssues;
  }

  /** Reads `dir`: `message.json` and `*.hbs` of each message folder, and `_brand/*.hbs`. */
  static fromDirectory(dir: string): TemplateSet {
    const catalog = CoreMessageCatalog.fromDirectory(dir);
    const issues: TemplateLoadIssue[] = [];
    const partials = new Map<string, TemplateFile>();
    const brandDir = join(dir, BRAND_DIR);
    if (existsSync(brandDir)) {
      for (const name of readdirSync(brandDir).sort()) {
        if (name.endsWith('.hbs') && !isHidden(name))
          partials.set(name.slice(0, -'.hbs'.length), readTemplate(join(brandDir, name)));
      }
    }
    const messages = new Map<string, MessageTemplates>();
    for (const id of catalog.ids()) {
      const folder = join(dir, id);
      const files = new Map<TemplateField, TemplateFile>();
      for (const name of readdirSync(folder).sort()) {
        if (!name.endsWith('.hbs') || isHidden(name)) continue;
        const field = name.slice(0, -'.hbs'.length);
        if (FIELD_NAMES.has(field)) files.set(field as TemplateField, readTemplate(join(folder, name)));
        else {
          issues.push({
            message: id,
            file: relative(process.cwd(), join(folder, name)),
            text: `Message "${id}": ${name} is not a channel template, so it is never used. To fix: rename it to one of ${[...FIELD_NAMES].map((f) => `${f}.hbs`).join(', ')}, or move a shared piece to ${relative(process.cwd(), brandDir) || brandDir}/.`,
          });
        }
      }
      const channels: Channel[] = [];
      for (const [channel, { required, optional }] of Object.entries(CHANNEL_TEMPLATES) as Array<
        [Channel, (typeof CHANNEL_TEMPLATES)[Channel]]
      >) {
        const present = [...required, ...optional].filter((field) => files.has(field));
        const missing = required.filter((field) => !files.has(field));
        if (missing.length === 0) channels.push(channel);
        else if (present.length > 0) {
          issues.push({
            message: id,
            channel,
            file: relative(process.cwd(), join(folder, `${missing[0]}.hbs`)),
            text: `Message "${id}", channel ${channel}: ${missing.map((f) => `${f}.hbs`).join(' and ')} missing, so ${channel} is not supported. To fix: add ${missing.length === 1 ? 'it' : 'them'} to ${relative(process.cwd(), folder)}/, or remove ${present.map((f) => `${f}.hbs`).join(', ')}.`,
          });
        }
      }
      messages.set(id, { files, channels });
    }
    return new TemplateSet(dir, catalog, messages, partials, issues);
  }

  messageIds(): string[] {
    return [...this.#messages.keys()];
  }

  message(messageId: string): CoreMessage | undefined {
    return this.catalog.get(messageId);
  }

  /** The channels a message supports: those whose required files all exist. */
  channels(messageId: string): Channel[] {
    return [...(this.#messages.get(messageId)?.channels ?? [])];
  }

  supports(messageId: string, channel: Channel): boolean {
    return this.#messages.get(messageId)?.channels.includes(channel) ?? false;
  }

  template(messageId: string, field: TemplateField): TemplateFile | undefined {
    return this.#messages.get(messageId)?.files.get(field);
  }

  /** Every template file once, the brand partials first, each with its message and channel. */
  files(): Array<{ file: TemplateFile; message?: string; channel?: Channel }> {
    const files: Array<{ file: TemplateFile; message?: string; channel?: Channel }> = [
      ...[...this.partials.values()].map((file) => ({ file })),
    ];
    for (const [message, { files: own }] of this.#messages) {
      for (const [field, file] of own) {
        const channel = (Object.keys(CHANNEL_TEMPLATES) as Channel[]).find((name) => {
          const { required, optional } = CHANNEL_TEMPLATES[name];
          return [...required, ...optional].includes(field);
        });
        files.push({ file, message, ...(channel === undefined ? {} : { channel }) });
      }
    }
    return files;
  }

  /** The files a channel of a message renders from, its own and the layouts wrapping them. */
  filesOf(messageId: string, channel: Channel): Array<{ field: TemplateSlot; file: TemplateFile }> {
    const { required, optional } = CHANNEL_TEMPLATES[channel];
    const own = [...required, ...optional].flatMap((field) => {
      const file = this.template(messageId, field);
      return file ? [{ field, file }] : [];
    });
    if (channel !== 'email') return own;
    const layouts = [LAYOUTS.html, LAYOUTS.text].flatMap((field) => {
      const file = this.partials.get(field);
      return file ? [{ field, file }] : [];
    });
    return [...own, ...layouts];
  }
}
