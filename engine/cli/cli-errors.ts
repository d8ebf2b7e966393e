import { ChorusError } from '../errors.js';

/**
 * The `chorus` command line was not understood: an unknown command or option, a missing
 * argument. The CLI prints the usage with the message and exits with status 2.
 */
export class CliUsageError extends ChorusError {
  static readonly code = 'CHORUS_CLI_USAGE';
  constructor(
    message: string,
    /** The command whose usage to print, or none for the overall usage. */
    readonly command?: string,
  ) {
    super(CliUsageError.code, message);
  }
}

/** `chorus send-test` reached the channel, and the channel did not take the message. */
export class SendTestError extends ChorusError {
  static readonly code = 'CHORUS_SEND_TEST_FAILED';
  constructor(
    readonly reason: string,
    readonly retryable: boolean,
    /** The email adapter's provider: `smtp`, or `outbox` when SMTP_URL is unset. */
    readonly provider = 'smtp',
  ) {
    super(
      SendTestError.code,
      `The test send failed: ${reason}. To fix: ${
        provider === 'outbox'
          ? 'SMTP_URL is unset, so the email is written under OUTBOX_DIR: set it to a folder you can write, or set SMTP_URL to send through a server.'
          : retryable
            ? 'check that SMTP_URL points at a running server that accepts mail, then try again.'
            : 'read the server’s answer; check the address, MAIL_FROM and the server’s relay rules.'
      }`,
    );
  }
}

/**
 * `chorus repair` found journey workers running on the prefix, or could not tell whether any
 * are: rebuilding the counts while steps are counted may lose some of them.
 */
export class RepairRefusedError extends ChorusError {
  static readonly code = 'CHORUS_REPAIR_REFUSED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(RepairRefusedError.code, message, options);
  }
}
