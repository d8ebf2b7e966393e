import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOutboxAdapter, type OutboxRecord } from '../../engine/channels/outbox-adapter.js';
import { deliveryFor } from './support.js';

describe('the outbox adapter', () => {
  let outboxDir: string;
  beforeEach(async () => {
    outboxDir = await mkdtemp(join(tmpdir(), 'chorus-outbox-'));
  });
  afterEach(async () => {
    await rm(outboxDir, { recursive: true, force: true });
  });

  it('writes an SMS as JSON with its address and rendered body, and logs the path', async () => {
    const logged: object[] = [];
    const sms = createOutboxAdapter({
      channel: 'sms',
      outboxDir,
      logger: { info: (obj) => logged.push(obj) },
    });
    const delivery = deliveryFor('sms');

    const result = await sms.send(delivery);

    const path = join(outboxDir, 'sms', `${delivery.opId}.json`);
    expect(result).toEqual({ status: 'sent', providerId: path });
    expect(logged).toEqual([expect.objectContaining({ channel: 'sms', path })]);
    const record = JSON.parse(await readFile(path, 'utf8')) as OutboxRecord;
    expect(record).toMatchObject({
      opId: delivery.opId,
      customerId: 'ada',
      journeyId: 'onboarding',
      message: 'welcome',
      variant: 'subject-test=b',
      address: { phone: '+15005550006' },
      rendered: { channel: 'sms', body: 'Acme: your workspace is ready https://acme.example/s' },
    });
  });

  it('writes a push notification under push/, one file per operation however often it is sent', async () => {
    const push = createOutboxAdapter({ channel: 'push', outboxDir });
    await push.send(deliveryFor('push'));
    await push.send(deliveryFor('push'));

    expect(await readdir(join(outboxDir, 'push'))).toEqual(['s-ada-onboarding.1-3-0.json']);
  });

  it('writes the file of a send whose operation id is longer than a file name may be', async () => {
    const sms = createOutboxAdapter({ channel: 'sms', outboxDir });
    const long = (end: string) => ({
      ...deliveryFor('sms'),
      opId: `s-${'a'.repeat(300)}${end}-onboarding.1-3-0`,
    });
    for (const delivery of [long('x'), long('y'), long('x')])
      expect(await sms.send(delivery)).toMatchObject({ status: 'sent' });
    // One file per operation, however often it is sent: the same id gets the same name.
    const files = await readdir(join(outboxDir, 'sms'));
    expect(files).toHaveLength(2);
    for (const file of files) expect(Buffer.byteLength(file)).toBeLessThanOrEqual(210);
  });
});
