import { ChorusError } from '../errors.js';
import type { Channel } from '../journey/journey-schema.js';
import {
  createTemplateEnvironment,
  escapeHtml,
  type CompiledTemplate,
  type TemplateEnvironment,
  type TemplateMode,
} from './handlebars-env.js';
import { htmlToText, oneLine, tidyText } from './html-to-text.js';
import type { RenderContext, RenderedFor, RenderedMessage } from './rendered-message.js';
import { plainPunctuation, plainSpaces, smsSegments } from './sms-segments.js';
import {
  FIELD_MODES,
  LAYOUTS,
  type TemplateField,
  type TemplateFile,
  type TemplateSet,
} from './template-set.js';
import { BrandHosts } from './brand-hosts.js';
import {
  addUtmToHtml,
  addUtmToJson,
  addUtmToText,
  variantLabel,
  withUtm,
  type UtmParams,
  type UtmScope,
} from './utm.js';
import { visibleHtml } from './visible-html.js';

/** A message could not be rendered: unknown, not on that channel, or its template failed. */
export class MessageRenderError extends ChorusError {
  readonly messageId: string;
  readonly channel: Channel;
  readonly file?: string;
  constructor(
    where: { messageId: string; channel: Channel; file?: string },
    message: string,
    options?: { cause?: unknown },
  ) {
    super('CHORUS_RENDER_FAILED', message, options);
    this.messageId = where.messageId;
    this.channel = where.channel;
    if (where.file !== undefined) this.file = where.file;
  }
}

export interface MessageRendererOptions {
  /** `utm_source` of every link. Default `chorus`. */
  utmSource?: string;
  /**
   * Hosts the brand's links may lead to beyond those of each message's CTA and the URLs written
   * in its templates (BRAND_LINK_HOSTS): `shop.example.com`, `*.example.com` for its subdomains.
   * See {@link BrandHosts}.
   */
  brandLinkHosts?: readonly string[];
}

/**
 * Renders a core message for one channel from its templates. Links the brand chose (see
 * {@link BrandHosts}) get UTM parameters (source, channel, journey, message and variant), except
 * the unsubscribe URL: `href`s and bare URLs in text, and in a webhook payload every string value
 * that is an http(s) URL. A link to any other host (a URL from a customer's traits) is left as
 * rendered: the parameters would tell its site which journey and message the link came in. Values are
 * HTML-escaped in HTML and the in-app inbox; a missing email text part is derived from what the
 * HTML shows (the body alone when a text layout wraps it).
 *
 * @example
 * const renderer = new MessageRenderer(loadTemplates('templates'));
 * const email = renderer.render('welcome', 'email', context); // { channel: 'email', subject, html, text }
 */
export class MessageRenderer {
  readonly #templates: TemplateSet;
  readonly #utmSource: string;
  readonly #brand: BrandHosts;
  readonly #envs: Record<TemplateMode, TemplateEnvironment>;
  readonly #compiled = new Map<string, CompiledTemplate>();

  constructor(templates: TemplateSet, options: MessageRendererOptions = {}) {
    this.#templates = templates;
    this.#utmSource = options.utmSource ?? 'chorus';
    this.#brand = new BrandHosts(templates, options.brandLinkHosts);
    const partials = Object.fromEntries([...templates.partials].map(([name, file]) => [name, file.source]));
    this.#envs = {
      html: createTemplateEnvironment('html', partials),
      text: createTemplateEnvironment('text', partials),
      json: createTemplateEnvironment('json', partials),
    };
  }

  channels(messageId: string): Channel[] {
    return this.#templates.channels(messageId);
  }

  supports(messageId: string, channel: Channel): boolean {
    return this.#templates.supports(messageId, channel);
  }

  /**
   * Whether `url` leads where the brand chose for message `messageId`: to its CTA's host, a host
   * written in its templates or layouts, or a configured one. Only such links are tagged and tracked.
   */
  isBrandLink(messageId: string, url: string): boolean {
    return this.#brand.allows(messageId, url);
  }

  /** The UTM parameters of one send: `utm_content` is `${message}-${variant label}`. */
  utmFor(
    messageId: string,
    channel: Channel,
    context: Pick<RenderContext, 'journey' | 'variants'>,
  ): UtmParams {
    return {
      source: this.#utmSource,
      medium: channel,
      campaign: context.journey.id,
      content: `${messageId}-${variantLabel(context.variants)}`,
    };
  }

  render<C extends Channel>(messageId: string, channel: C, context: RenderContext): RenderedFor<C>;
  render(messageId: string, channel: Channel, context: RenderContext): RenderedMessage {
    const where = { messageId, channel };
    if (this.#templates.message(messageId) === undefined) {
      throw new MessageRenderError(
        where,
        `Message "${messageId}" has no templates. To fix: add ${this.#templates.dir}/${messageId}/message.json and its channel templates, or correct the id.`,
      );
    }
    if (!this.supports(messageId, channel)) {
      const supported = this.channels(messageId);
      throw new MessageRenderError(
        where,
        `Message "${messageId}" has no ${channel} templates (it supports ${supported.join(', ') || 'no channel'}). To fix: add them to ${this.#templates.dir}/${messageId}/, or send it on a supported channel.`,
      );
    }
    const utm = this.utmFor(messageId, channel, context);
    const scope: UtmScope = {
      keep: [context.unsubscribeUrl],
      brand: (url) => this.#brand.allows(messageId, url),
    };
    const cta = { label: context.message.cta.label, url: withUtm(context.message.cta.url, utm) };
    const ctx: RenderContext = { ...context, message: { ...context.message, cta } };
    const run = (field: TemplateField) => this.#run(messageId, channel, field, ctx);
    switch (channel) {
      case 'email': {
        const bodyHtml = run('email.html');
        const html = addUtmToHtml(
          this.#wrap(messageId, channel, LAYOUTS.html, 'html', ctx, bodyHtml),
          utm,
          scope,
        );
        const wrapText = (text: string) => this.#wrap(messageId, channel, LAYOUTS.text, 'text', ctx, text);
        // Derived from what a reader of the HTML sees: a preheader, hidden with its padding of
        // &zwnj;&nbsp; for the inbox preview alone, is not the text part's to show. Without a text
        // layout, from the whole email: its HTML layout's footer (the unsubscribe link, the
        // sender's postal address) belongs in the text part too.
        const text = this.#templates.template(messageId, 'email.text')
          ? wrapText(tidyText(run('email.text')))
          : this.#templates.partials.has(LAYOUTS.text)
            ? wrapText(htmlToText(visibleHtml(addUtmToHtml(bodyHtml, utm, scope))))
            : htmlToText(visibleHtml(html));
        return {
          channel,
          subject: oneLine(run('email.subject')),
          html,
          text: addUtmToText(tidyText(text), utm, scope),
        };
      }
      case 'sms': {
        // Spaces and punctuation made plain before the links are tagged: only text is changed.
        const body = addUtmToText(tidyText(plainPunctuation(plainSpaces(run('sms')))), utm, scope);
        const { encoding, segments } = smsSegments(body);
        return { channel, body, encoding, segments };
      }
      case 'push': {
        const options = this.#templates.message(messageId)?.push;
        return {
          channel,
          title: addUtmToText(oneLine(run('push.title')), utm, scope),
          body: addUtmToText(tidyText(run('push.body')), utm, scope),
          url: cta.url,
          ...(options?.ttl === undefined ? {} : { ttlMs: options.ttl }),
          ...(options?.collapseKey === undefined ? {} : { collapseKey: options.collapseKey }),
        };
      }
      case 'in-app': {
        const title = this.#templates.template(messageId, 'in-app.title')
          ? oneLine(run('in-app.title'))
          : escapeHtml(ctx.message.headline);
        return {
          channel,
          title: addUtmToHtml(title, utm, scope),
          body: addUtmToHtml(tidyText(run('in-app.body')), utm, scope),
          cta,
        };
      }
      case 'webhook':
        return { channel, payload: addUtmToJson(this.#json(messageId, run('webhook.json')), utm, scope) };
    }
  }

  #json(messageId: string, rendered: string): Record<string, unknown> {
    const file = this.#templates.template(messageId, 'webhook.json')?.path;
    const where = { messageId, channel: 'webhook' as const, ...(file === undefined ? {} : { file }) };
    let payload: unknown;
    try {
      payload = JSON.parse(rendered);
    } catch (cause) {
      throw new MessageRenderError(
        where,
        `Message "${messageId}", channel webhook: ${file} did not render valid JSON (${(cause as Error).message}). To fix: write values with {{json path}}, which quotes and escapes them.`,
        { cause },
      );
    }
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      throw new MessageRenderError(
        where,
        `Message "${messageId}", channel webhook: ${file} rendered ${Array.isArray(payload) ? 'an array' : JSON.stringify(payload)}, not a JSON object. To fix: make the template one object, {"key": ...}.`,
      );
    }
    return payload as Record<string, unknown>;
  }

  #run(messageId: string, channel: Channel, field: TemplateField, context: object): string {
    const file = this.#templates.template(messageId, field);
    // supports() guarantees the required files, and optional ones are looked up before running.
    if (!file) throw new Error(`internal: ${messageId}/${field}.hbs is not loaded`);
    return this.#execute(messageId, channel, file, FIELD_MODES[field], context);
  }

  /** The body inside the brand layout, when there is one. */
  #wrap(
    messageId: string,
    channel: Channel,
    layout: string,
    mode: TemplateMode,
    context: RenderContext,
    body: string,
  ): string {
    const file = this.#templates.partials.get(layout);
    return file ? this.#execute(messageId, channel, file, mode, { ...context, body }) : body;
  }

  #execute(
    messageId: string,
    channel: Channel,
    file: TemplateFile,
    mode: TemplateMode,
    context: object,
  ): string {
    const key = `${mode}:${file.path}`;
    try {
      // Compiling can refuse a template too (a raw value in JSON): named like a failed render.
      let template = this.#compiled.get(key);
      if (!template) {
        template = this.#envs[mode].compile(file.source);
        this.#compiled.set(key, template);
      }
      return template(context);
    } catch (cause) {
      throw new MessageRenderError(
        { messageId, channel, file: file.path },
        `Message "${messageId}", channel ${channel}: ${file.path} failed to render: ${(cause as Error).message}. To fix: correct the template; chorus validate (or loadTemplates() in code) checks every template before any is sent.`,
        { cause },
      );
    }
  }
}
