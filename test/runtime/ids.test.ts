import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { customerKeys, drainJobId, sendOpId, timerJobId } from '../../engine/index.js';
import { encodeIdPart, parseStepJobId, parseTimerJobId } from '../../engine/runtime/ids.js';
import { seqOfInstanceId } from '../../engine/runtime/instance-record.js';
import { inboxAppendKeys } from '../../engine/store/customer-keys.js';

describe('deterministic ids', () => {
  it('never collide when customer and journey ids share dashes', () => {
    expect(timerJobId('bob-vip', 'winback.1', 1, 0)).not.toBe(timerJobId('bob', 'vip-winback.1', 1, 0));
    expect(sendOpId('bob-vip', 'winback.1', 1, 0)).not.toBe(sendOpId('bob', 'vip-winback.1', 1, 0));
    expect(drainJobId('u', '7-abc')).not.toBe(drainJobId('u-7', 'abc'));
    expect(drainJobId('u', 'a.b')).not.toBe(drainJobId('u', 'a_b'));
  });

  it('are valid BullMQ job ids for hostile customer ids', () => {
    for (const id of ['a:b', '12345', '{tag}', 'e\u0301', '__proto__', 'x y\r\nz']) {
      const jobId = timerJobId(id, 'j.1', 1, 0);
      expect(jobId).not.toContain(':');
      expect(jobId).not.toMatch(/^\d+$/);
      expect(jobId).toMatch(/^[A-Za-z0-9%.-]+$/);
    }
  });

  it('put every key of one customer in one Redis Cluster hash slot', () => {
    const keys = customerKeys('chorus', '}{weird}');
    const tag = (key: string) => /\{([^}]*)\}/.exec(key)?.[1];
    const tags = new Set(
      [keys.state, keys.inbox, keys.events, keys.lease, keys.dead, keys.seen('m'), keys.op('o')].map(tag),
    );
    expect(tags.size).toBe(1);
    expect([...tags][0]).toBeTruthy();
  });

  it('name the same keys for an inbox append as for the rest of the engine', () => {
    for (const [customerId, eventId] of [
      ['}{weird}', 'm:1'],
      ['bob-vip', 'e\u0301'],
      ['ada', 'plain'],
    ] as const) {
      const keys = customerKeys('chorus', customerId);
      expect(inboxAppendKeys('chorus', customerId, eventId)).toEqual([
        keys.inbox,
        keys.events,
        keys.lease,
        keys.seen(eventId),
      ]);
    }
  });
});

describe('encodeIdPart', () => {
  // The byte-by-byte definition the fast encoder must keep agreeing with.
  const reference = (value: string) =>
    Array.from(Buffer.from(value, 'utf8'), (byte) =>
      /[A-Za-z0-9]/.test(String.fromCharCode(byte)) && byte < 0x80
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    ).join('');

  it('encodes every byte outside letters and digits as %XX of its UTF-8, lone surrogates too', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (value) => {
        expect(encodeIdPart(value)).toBe(reference(value));
      }),
      { numRuns: 500 },
    );
    for (const value of ['', 'abcXYZ019', 'a-b', 'é', '\ud800x', '😀-😀', 'a b\u0000'])
      expect(encodeIdPart(value)).toBe(reference(value));
  });
});

describe('parseTimerJobId', () => {
  it('reads back the customer and instance of every timer job id', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 30 }),
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        (customerId, journeyId, seq, rev, index) => {
          const instanceId = `${journeyId}.${seq}`;
          expect(parseTimerJobId(timerJobId(customerId, instanceId, rev, index))).toEqual({
            customerId,
            instanceId,
          });
          // A send's operation id reads back the same way, and its entry number with it.
          const send = parseStepJobId(sendOpId(customerId, instanceId, rev, index));
          expect(send).toEqual({ customerId, instanceId });
          expect(seqOfInstanceId(send!.instanceId)).toBe(seq);
          expect(parseTimerJobId(sendOpId(customerId, instanceId, rev, index))).toBeUndefined();
        },
      ),
      { numRuns: 500 },
    );
    expect(parseTimerJobId('d-bob-m1')).toBeUndefined();
    expect(parseStepJobId('d-bob-m1')).toBeUndefined();
    expect(seqOfInstanceId('no-number')).toBe(0);
  });
});
