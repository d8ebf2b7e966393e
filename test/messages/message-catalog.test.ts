import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CoreMessageCatalog, MessageDefinitionError } from '../../engine/messages/message-catalog.js';
import { checkTemplates } from '../../engine/messages/template-checks.js';
import { TemplateSet } from '../../engine/messages/template-set.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A templates folder holding one message folder `folder` whose message.json is `json`. */
function templatesWith(folder: string, json: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'chorus-messages-'));
  dirs.push(dir);
  mkdirSync(join(dir, folder));
  writeFileSync(join(dir, folder, 'message.json'), json);
  return dir;
}

describe('reading core messages', () => {
  it('gives the templates and the catalog the same messages, parsed once per load', () => {
    const templates = TemplateSet.fromDirectory('templates');
    const catalog = CoreMessageCatalog.fromDirectory('templates');
    expect(templates.catalog.ids()).toEqual([
      'cart-reminder',
      'nudge',
      'product-spotlight',
      'replenish',
      'review-request',
      'thank-you',
      'welcome',
      'win-back',
    ]);
    expect(templates.catalog.ids()).toEqual(catalog.ids());
    for (const id of catalog.ids()) {
      expect(templates.message(id)).toEqual(catalog.get(id));
      expect(templates.message(id)).toBe(templates.catalog.get(id));
    }
    expect(templates.catalog.has('welcome')).toBe(true);
    expect(templates.catalog.has('_brand')).toBe(false);
  });

  it('refuses a message.json that fails the schema, naming the file and the fields', () => {
    const dir = templatesWith('hello', JSON.stringify({ id: 'hello', headline: '', cta: { label: 'Go' } }));
    for (const load of [() => CoreMessageCatalog.fromDirectory(dir), () => TemplateSet.fromDirectory(dir)]) {
      expect(load).toThrow(MessageDefinitionError);
      expect(load).toThrow(/hello\/message\.json is invalid: proposition: .*; headline: .*; cta\.url: /);
    }
  });

  it('reads a message as marketing unless it says transactional, and refuses another topic', () => {
    const message = {
      id: 'hello',
      proposition: 'p',
      headline: 'h',
      cta: { label: 'Go', url: 'https://example.com' },
    };
    expect(
      CoreMessageCatalog.fromDirectory(templatesWith('hello', JSON.stringify(message))).get('hello')?.topic,
    ).toBe('marketing');
    const receipt = templatesWith('hello', JSON.stringify({ ...message, topic: 'transactional' }));
    expect(CoreMessageCatalog.fromDirectory(receipt).get('hello')?.topic).toBe('transactional');
    const newsletter = templatesWith('hello', JSON.stringify({ ...message, topic: 'newsletter' }));
    expect(() => CoreMessageCatalog.fromDirectory(newsletter)).toThrow(/message\.json is invalid: topic: /);
  });

  describe('push options', () => {
    const message = {
      id: 'sale',
      proposition: 'p',
      headline: 'h',
      cta: { label: 'Go', url: 'https://example.com' },
    };
    const load = (push: unknown) =>
      CoreMessageCatalog.fromDirectory(templatesWith('sale', JSON.stringify({ ...message, push }))).get(
        'sale',
      );

    it('reads a time to live as milliseconds and keeps the collapse key', () => {
      expect(load({ ttl: '12h', collapseKey: 'sale' })?.push).toEqual({
        ttl: 43_200_000,
        collapseKey: 'sale',
      });
      expect(load({ ttl: 'PT30M' })?.push).toEqual({ ttl: 1_800_000 });
      expect(load({ ttl: 0 })?.push).toEqual({ ttl: 0 });
      expect(load({ ttl: '28d' })?.push?.ttl).toBe(28 * 86_400_000);
      expect(load(undefined)?.push).toBeUndefined();
    });

    it.each([
      [{ ttl: 'tonight' }, /sale\/message\.json is invalid: push\.ttl: cannot be read as a duration; write /],
      [{ ttl: '5w' }, /push\.ttl: "5w" is longer than the 4 weeks FCM keeps a message/],
      [{ ttl: '1500ms' }, /push\.ttl: "1500ms" is not a whole number of seconds/],
      [{ collapseKey: 'sale ends tonight' }, /push\.collapseKey: must be 1 to 64 letters, digits/],
      [{ collapseKey: 'x'.repeat(65) }, /push\.collapseKey: must be 1 to 64/],
      [{ tll: '1h' }, /push: unknown field\(s\) "tll"; the fields are ttl, collapseKey/],
    ])('refuses push options %j, naming the message file and the field', (push, error) => {
      expect(() => load(push)).toThrow(MessageDefinitionError);
      expect(() => load(push)).toThrow(error);
    });
  });

  it("passes over hidden folders and files: an editor's settings and the ._ files macOS writes", () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-messages-'));
    dirs.push(dir);
    cpSync('test/fixtures/templates-render', dir, { recursive: true });
    mkdirSync(join(dir, '.vscode'));
    writeFileSync(join(dir, '.vscode', 'settings.json'), '{}');
    // AppleDouble files hold metadata, not UTF-8 text.
    writeFileSync(join(dir, 'hello', '._sms.hbs'), Buffer.from([0x00, 0x05, 0x16, 0x07, 0xff]));
    writeFileSync(join(dir, '_brand', '._layout.html.hbs'), Buffer.from([0x00, 0x05, 0x16, 0x07, 0xff]));
    const templates = TemplateSet.fromDirectory(dir);
    expect(templates.messageIds()).toEqual(['hello', 'spotlight']);
    expect(templates.loadIssues).toEqual([]);
    expect([...templates.partials.keys()]).toEqual(['layout.html', 'layout.text']);
    expect(checkTemplates(templates)).toEqual([]);
  });

  it('refuses a message whose id differs from its folder, and a folder without message.json', () => {
    const misnamed = templatesWith(
      'hello',
      JSON.stringify({
        id: 'hi',
        proposition: 'p',
        headline: 'h',
        cta: { label: 'Go', url: 'https://example.com' },
      }),
    );
    // The folder as given (TEMPLATES_DIR, --templates), not always templates/.
    expect(() => CoreMessageCatalog.fromDirectory(misnamed)).toThrow(
      `declares id "hi" but lives in ${join(misnamed, 'hello')}/. To fix: make them equal.`,
    );
    const empty = mkdtempSync(join(tmpdir(), 'chorus-messages-'));
    dirs.push(empty);
    mkdirSync(join(empty, 'hello'));
    expect(() => TemplateSet.fromDirectory(empty)).toThrow(
      expect.objectContaining({
        code: 'CHORUS_MESSAGE_INVALID',
        message: expect.stringMatching(/message\.json is missing/),
      }),
    );
  });
});
