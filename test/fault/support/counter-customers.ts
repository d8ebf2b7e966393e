import { jobsOfRun, postJson, sleep, type FaultRun } from './fault-run.js';
import type { FaultSmtp } from './fault-smtp.js';

/** Steps each customer takes in the counter journey between Start and Finish. */
export const STEPS = 3;

/** One call of a customer's script, as the API's batch takes it; `messageId` makes retries safe. */
export type Call =
  | { type: 'identify'; userId: string; traits: Record<string, unknown>; messageId: string }
  | { type: 'track'; userId: string; event: string; properties: Record<string, unknown>; messageId: string };

export function customerIds(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
}

/**
 * The rounds that take every customer through the counter journey: identify (with the email
 * address), Start, Step 1..STEPS, Finish. A round is sent whole before the next, so each
 * customer's events reach Redis in order.
 */
export function counterRounds(ids: readonly string[]): Call[][] {
  const track = (event: string, properties: (n: number) => Record<string, unknown>, round: number) =>
    ids.map((userId): Call => ({
      type: 'track',
      userId,
      event,
      properties: properties(round),
      messageId: `${userId}-r${round}`,
    }));
  const rounds: Call[][] = [
    ids.map((userId) => ({
      type: 'identify',
      userId,
      traits: { email: `${userId}@example.com` },
      messageId: `${userId}-r0`,
    })),
    track('Start', () => ({}), 1),
  ];
  for (let n = 1; n <= STEPS; n++) rounds.push(track('Step', () => ({ n }), n + 1));
  rounds.push(track('Finish', () => ({}), STEPS + 2));
  return rounds;
}

/** Sends a round straight into Redis through the reader engine, as a producer library would. */
export async function sendDirect(run: FaultRun, calls: readonly Call[]): Promise<void> {
  for (let i = 0; i < calls.length; i += 500) {
    await Promise.all(
      calls
        .slice(i, i + 500)
        .map(({ type, ...call }) =>
          type === 'identify'
            ? run.reader.identify(call as Extract<Call, { type: 'identify' }>)
            : run.reader.track(call as Extract<Call, { type: 'track' }>),
        ),
    );
  }
}

/**
 * Sends a round through the API's batch endpoint, 500 calls a request, retrying each request
 * until it is answered 200: a 503 (Redis away) or a refused connection is retried after a short
 * pause, anything else fails the test. Returns how many answers were 503.
 */
export async function sendOverHttp(apiUrl: string, calls: readonly Call[]): Promise<number> {
  let unavailable = 0;
  const batches: Call[][] = [];
  for (let i = 0; i < calls.length; i += 500) batches.push(calls.slice(i, i + 500));
  await Promise.all(
    batches.map(async (batch) => {
      for (;;) {
        const response = await postJson(`${apiUrl}/v1/batch`, { batch }).catch(() => undefined);
        if (response?.status === 200) return;
        if (response && response.status !== 503)
          throw new Error(`batch answered ${response.status}: ${await response.text()}`);
        if (response) unavailable++;
        await sleep(200);
      }
    }),
  );
  return unavailable;
}

export interface CounterOutcome {
  /** Message-IDs the SMTP server accepted more than once. */
  duplicates: number;
  /** Ledger entries marked `resent`: a run that died mid-send, sent again under the same Message-ID. */
  resent: number;
}

/**
 * Waits until every customer has finished the counter journey, then checks, from Redis and from
 * the SMTP server: each instance is `done` with all STEPS applied in order, nothing dead-lettered
 * or left in an inbox, no failed job; the ledger has exactly one `sent` welcome and thank-you per
 * customer; the server accepted exactly those two Message-IDs for each customer's address and no
 * other. A Message-ID accepted twice is allowed only where the ledger says the send was resumed
 * after a crash mid-send (`resent`): the same Message-ID, so the receiver can drop the repeat.
 * Returns what it counted; throws with the first problems found.
 */
export async function verifyCounterRun(
  run: FaultRun,
  smtp: FaultSmtp,
  ids: readonly string[],
  timeoutMs: number,
): Promise<CounterOutcome> {
  const deadline = Date.now() + timeoutMs;
  const expectedMails = 2 * ids.length;
  while (new Set(smtp.accepted.map((m) => m.messageId)).size < expectedMails && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
  }
  // The ledger is written just after the server answers: allow stragglers a moment.
  let read = await readCustomers(run, ids);
  while (read.problems.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    read = await readCustomers(run, ids);
  }
  const { problems, resentOps, sentOps } = read;
  const failedJobs = await jobsOfRun(run, 'failed');
  if (failedJobs > 0) problems.push(`${failedJobs} failed jobs`);

  // Each sent operation's mails, by its Message-ID: one Message-ID per operation, on every copy.
  const byOp = new Map<string, Map<string, number>>();
  for (const mail of smtp.accepted) {
    const op = opOf(mail.messageId);
    const ids = byOp.get(op) ?? new Map<string, number>();
    ids.set(mail.messageId, (ids.get(mail.messageId) ?? 0) + 1);
    byOp.set(op, ids);
  }
  for (const [op] of byOp)
    if (!sentOps.has(op)) problems.push(`server accepted ${op}, which no ledger entry sent`);
  for (const [op] of sentOps)
    if (!byOp.has(op)) problems.push(`ledger says ${op} was sent, the server never accepted it`);
  for (const mail of smtp.accepted) {
    const to = sentOps.get(opOf(mail.messageId));
    if (to && !mail.to.includes(to)) problems.push(`${mail.messageId} went to ${mail.to}`);
  }
  let duplicates = 0;
  for (const [op, ids] of byOp) {
    if (ids.size > 1)
      problems.push(`${op} was sent under ${ids.size} Message-IDs: ${[...ids.keys()].join(', ')}`);
    const count = [...ids.values()].reduce((a, b) => a + b);
    if (count < 2) continue;
    duplicates++;
    if (!resentOps.has(op))
      problems.push(`server accepted ${op} ${count} times, and no crash mid-send explains it`);
  }
  if (problems.length > 0)
    throw new Error(
      `${problems.length} problems, the first: \n  ${problems.slice(0, 15).join('\n  ')}\nLogs:\n${run.logs().slice(-8000)}`,
    );
  return { duplicates, resent: resentOps.size };
}

/** The operation of a Message-ID the email adapter made: `<op id>.<decided at>@<MAIL_FROM's domain>`. */
function opOf(messageId: string): string {
  return /^<(.+)\.[0-9a-z]+@chorus\.local>$/.exec(messageId)?.[1] ?? messageId;
}

async function readCustomers(run: FaultRun, ids: readonly string[]) {
  const problems: string[] = [];
  const resentOps = new Set<string>();
  const sentOps = new Map<string, string>();
  for (let i = 0; i < ids.length; i += 200) {
    const customers = await Promise.all(ids.slice(i, i + 200).map((id) => run.reader.customer(id)));
    customers.forEach((customer, k) => {
      const id = ids[i + k]!;
      const instance = customer.instances.find((x) => x.journeyId === 'counter');
      const data = (instance?.context as { data?: { count?: number } } | undefined)?.data;
      if (customer.instances.length !== 1 || instance?.status !== 'done' || instance.exitReason !== 'done')
        problems.push(`${id}: instance ${instance?.status ?? 'missing'} (${instance?.exitReason ?? '-'})`);
      else if (data?.count !== STEPS) problems.push(`${id}: ${data?.count} of ${STEPS} steps applied`);
      if (customer.pendingEvents !== 0)
        problems.push(`${id}: ${customer.pendingEvents} events still waiting`);
      if (customer.deadLetters.length > 0)
        problems.push(`${id}: dead letter ${customer.deadLetters[0]!.reason.slice(0, 200)}`);
      const sends = customer.messages.map((m) => `${String(m.message)}:${String(m.status)}`).sort();
      if (sends.join(',') !== 'thank-you:sent,welcome:sent') {
        const why = customer.messages.filter((m) => m.status !== 'sent').map((m) => String(m.reason));
        problems.push(`${id}: ledger ${sends.join(',')} ${why.join('; ')}`);
      }
      for (const entry of customer.messages) {
        if (entry.status !== 'sent') continue;
        sentOps.set(String(entry.opId), `${id}@example.com`);
        if (entry.resent === true) resentOps.add(String(entry.opId));
      }
    });
  }
  return { problems, resentOps, sentOps };
}
