import type { Channel } from '../journey/journey-schema.js';
import type { Logger } from '../logger.js';
import type { ChannelAdapter, Delivery, DeliveryResult } from './channel-adapter.js';
import { describeError } from './http-result.js';
import { eraseOutboxFile, eraseOutboxFiles, outboxFileName, writeOutboxFile } from './outbox-file.js';

export interface OutboxAdapterOptions {
  /** The channel this adapter stands in for (email has its own `.eml` outbox in the email adapter). */
  channel: Exclude<Channel, 'email'>;
  /** Folder to write into; files go to `<outboxDir>/<channel>/<opId>.json`. */
  outboxDir: string;
  /** Told the path of every file written. */
  logger?: Pick<Logger, 'info'>;
}

/** What an outbox JSON file holds: who it was for, and what they would have received. */
export interface OutboxRecord {
  opId: string;
  channel: Channel;
  customerId: string;
  journeyId: string;
  journeyVersion: number;
  message: string;
  variant: string;
  address: Delivery['address'];
  rendered: Delivery['rendered'];
}

/**
 * The embedded default for SMS and push when no provider is configured: each message becomes a
 * JSON file `<outboxDir>/<channel>/<opId>.json`, named by operation id so a retried send
 * overwrites its own file rather than adding another.
 *
 * @example
 * ```ts
 * const sms = createOutboxAdapter({ channel: 'sms', outboxDir: 'outbox', logger });
 * await sms.send(delivery); // { status: 'sent', providerId: '/app/outbox/sms/s-bob-….json' }
 * ```
 */
export function createOutboxAdapter(options: OutboxAdapterOptions): ChannelAdapter {
  const { channel, outboxDir, logger } = options;
  return {
    channel,
    provider: 'outbox',
    idempotent: true,
    async send(delivery: Delivery): Promise<DeliveryResult> {
      const record: OutboxRecord = {
        opId: delivery.opId,
        channel: delivery.channel,
        customerId: delivery.customerId,
        journeyId: delivery.journeyId,
        journeyVersion: delivery.journeyVersion,
        message: delivery.message,
        variant: delivery.variant,
        address: delivery.address,
        rendered: delivery.rendered,
      };
      try {
        const path = await writeOutboxFile(
          outboxDir,
          channel,
          outboxFileName(delivery.opId, 'json'),
          `${JSON.stringify(record, null, 2)}\n`,
        );
        logger?.info({ channel, opId: delivery.opId, path }, `${channel} written to outbox`);
        return { status: 'sent', providerId: path };
      } catch (error) {
        return {
          status: 'retry',
          reason: `could not write the ${channel} outbox file: ${describeError(error)}`,
        };
      }
    },
    eraseSend(opId: string): Promise<void> {
      return eraseOutboxFile(outboxDir, channel, opId, 'json');
    },
    eraseCustomer(customerId: string): Promise<number> {
      return eraseOutboxFiles(outboxDir, channel, customerId, (content) => {
        try {
          return (JSON.parse(content) as Partial<OutboxRecord>).customerId === customerId;
        } catch {
          return true; // half a file of theirs, or another's: in a development folder, gone is safer
        }
      });
    },
  };
}
