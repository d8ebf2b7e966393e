import { describe, expect, it } from 'vitest';
import { ChannelConfigError, WebhookVerificationError } from '../../engine/channels/errors.js';
import {
  generateWebhookSecret,
  signWebhook,
  verifyWebhook,
  webhookHeaders,
} from '../../engine/channels/standard-webhooks.js';

// The example from the Standard Webhooks reference implementations.
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const timestamp = 1614265330;
const body = '{"test": 2432232314}';

function rejection(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof WebhookVerificationError) return error.reason;
    throw error;
  }
  return undefined;
}

describe('Standard Webhooks signing', () => {
  it('produces the signature of the reference implementations', () => {
    expect(signWebhook(secret, id, timestamp, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('verifies its own signature within the tolerance and returns the message id', () => {
    const headers = webhookHeaders(secret, id, timestamp, body);
    expect(verifyWebhook(secret, headers, Buffer.from(body), { now: (timestamp + 299) * 1000 })).toEqual({
      id,
      timestamp,
    });
  });

  it('reads headers from a fetch Headers object as well as a plain object', () => {
    const headers = new Headers({ ...webhookHeaders(secret, id, timestamp, body) });
    expect(verifyWebhook(secret, headers, body, { now: timestamp * 1000 }).id).toBe(id);
  });

  it('rejects a changed body, a stale or future timestamp and missing headers', () => {
    const headers = webhookHeaders(secret, id, timestamp, body);
    const now = timestamp * 1000;
    expect(rejection(() => verifyWebhook(secret, headers, '{"test": 1}', { now }))).toBe(
      'no-matching-signature',
    );
    expect(rejection(() => verifyWebhook(secret, headers, body, { now: now + 301_000 }))).toBe(
      'timestamp-too-old',
    );
    expect(rejection(() => verifyWebhook(secret, headers, body, { now: now - 301_000 }))).toBe(
      'timestamp-too-new',
    );
    expect(rejection(() => verifyWebhook(secret, { 'webhook-id': id }, body, { now }))).toBe(
      'missing-header',
    );
    expect(
      rejection(() => verifyWebhook(secret, { ...headers, 'webhook-timestamp': '1e9' }, body, { now })),
    ).toBe('invalid-timestamp');
  });

  it('reads the headers under their Svix names, as Svix-powered senders send them', () => {
    const signed = webhookHeaders(secret, id, timestamp, body);
    const svix = {
      'Svix-Id': signed['webhook-id'],
      'Svix-Timestamp': signed['webhook-timestamp'],
      'Svix-Signature': signed['webhook-signature'],
    };
    const now = timestamp * 1000;
    expect(verifyWebhook(secret, svix, body, { now })).toEqual({ id, timestamp });
    expect(verifyWebhook(secret, new Headers(svix), body, { now }).id).toBe(id);
    expect(rejection(() => verifyWebhook(secret, svix, '{"test": 1}', { now }))).toBe(
      'no-matching-signature',
    );
    expect(rejection(() => verifyWebhook(secret, svix, body, { now: now + 301_000 }))).toBe(
      'timestamp-too-old',
    );
    // A set is taken whole: one name of each kind is not a signed request.
    const mixed = { 'webhook-id': id, 'svix-timestamp': String(timestamp), 'svix-signature': 'v1,x' };
    expect(rejection(() => verifyWebhook(secret, mixed, body, { now }))).toBe('missing-header');
  });

  it('rejects a signature made with another secret', () => {
    const headers = webhookHeaders(generateWebhookSecret(), id, timestamp, body);
    expect(rejection(() => verifyWebhook(secret, headers, body, { now: timestamp * 1000 }))).toBe(
      'no-matching-signature',
    );
  });

  it('accepts any one of several signatures, so keys can be rotated', () => {
    const next = generateWebhookSecret();
    const headers = webhookHeaders([secret, next], id, timestamp, body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(verifyWebhook(next, headers, body, { now: timestamp * 1000 }).id).toBe(id);
    expect(verifyWebhook(secret, headers, body, { now: timestamp * 1000 }).id).toBe(id);
    // A receiver mid-rotation may also hold both secrets.
    const onlyNew = webhookHeaders(next, id, timestamp, body);
    expect(verifyWebhook([secret, next], onlyNew, body, { now: timestamp * 1000 }).id).toBe(id);
  });

  it('refuses a secret that is not base64', () => {
    expect(() => signWebhook('whsec_not base64!', id, timestamp, body)).toThrow(ChannelConfigError);
  });
});
