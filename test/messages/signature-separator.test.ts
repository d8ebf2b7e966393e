import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmailAdapter } from '../../engine/channels/email-adapter.js';
import { MessageRenderer } from '../../engine/messages/message-renderer.js';
import { TemplateSet } from '../../engine/messages/template-set.js';
import { deliveryFor } from '../channels/support.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { renderContext } from './render-context.js';

describe('the signature separator of the shipped text layout', () => {
  let sink: SmtpSink;

  beforeAll(async () => {
    sink = await startSmtpSink();
  });

  afterAll(() => sink.close());

  it('reaches the mailbox as "-- " (dash dash space), which mail clients take for the start of a signature', async () => {
    const templates = TemplateSet.fromDirectory('templates');
    const welcome = templates.message('welcome')!;
    const rendered = new MessageRenderer(templates).render('welcome', 'email', renderContext(welcome));
    const adapter = createEmailAdapter({ from: 'Yue Tea <hello@yuetea.example.com>', smtpUrl: sink.url });
    try {
      expect((await adapter.send(deliveryFor('email', { rendered }))).status).toBe('sent');
    } finally {
      await adapter.close?.();
    }

    const lines = (sink.received[0]?.text ?? '').split(/\r?\n/);
    // The footer (why you receive this, the unsubscribe link) follows the separator.
    const separator = lines.findIndex((line) => line.trimEnd() === '--');
    expect(lines[separator]).toBe('-- ');
    expect(lines[separator + 1]).toMatch(/^You receive this because you joined Yue Tea\.$/);
    expect(lines.filter((line) => line === '-- ')).toHaveLength(1);
  });
});
