import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createTemplateEnvironment } from '../../engine/messages/handlebars-env.js';
import { checkTemplates } from '../../engine/messages/template-checks.js';
import { TemplateSet } from '../../engine/messages/template-set.js';

describe("Handlebars' log helper", () => {
  it('is not there to print a customer’s traits to the worker’s output on every send', () => {
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
      vi.spyOn(console, method).mockImplementation(() => undefined),
    );
    try {
      const render = () =>
        createTemplateEnvironment('html').compile('Hi {{log profile}}')({
          profile: { email: 'ada@example.com' },
        });
      expect(render).toThrow(/there is no log helper/);
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  it('is reported at load time as a helper that does not exist, naming file and line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-log-helper-'));
    try {
      mkdirSync(join(dir, 'm'));
      writeFileSync(
        join(dir, 'm', 'message.json'),
        JSON.stringify({
          id: 'm',
          proposition: 'Tea for you.',
          headline: 'Fresh blends are here',
          cta: { label: 'Shop now', url: 'https://example.com/shop' },
        }),
      );
      writeFileSync(join(dir, 'm', 'sms.hbs'), '{{message.headline}} {{message.cta.url}}\n{{log profile}}');
      expect(checkTemplates(TemplateSet.fromDirectory(dir)).map((p) => p.text)).toEqual([
        expect.stringMatching(/sms\.hbs line 2 calls helper "log", which does not exist\. To fix:/),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
