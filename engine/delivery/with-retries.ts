/**
 * Runs `write` until it succeeds, at most `attempts` times, waiting `baseMs`, then twice as long,
 * between tries; the last error is thrown. For the Redis writes that follow a provider's answer:
 * leaving them to a BullMQ retry would run the whole job again, and send the message again.
 */
export async function withRetries<T>(
  write: () => Promise<T>,
  options: { attempts: number; baseMs: number },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= options.attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, options.baseMs * 2 ** (attempt - 1)));
    }
  }
}
