/**
 * Deterministic ids. BullMQ job ids may not contain `:` and may not be all digits, and Redis
 * Cluster hash tags break on `{`/`}`: customer ids are percent-encoded before they appear in
 * either, so any user id is safe.
 */
export function customerToken(customerId: string): string {
  return encodeURIComponent(customerId).replace(
    /[!'()*.~]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The delayed job that delivers the `index`-th delay scheduled by revision `rev` of an instance. */
export function timerJobId(customerId: string, instanceId: string, rev: number, index: number): string {
  return `t-${customerToken(customerId)}-${instanceId}-${rev}-${index}`;
}

/** The operation id (and delivery job id) of the `index`-th send made by revision `rev` of an instance. */
export function sendOpId(customerId: string, instanceId: string, rev: number, index: number): string {
  return `s-${customerToken(customerId)}-${instanceId}-${rev}-${index}`;
}

/** The job that drains a customer's inbox after an event arrived. */
export function drainJobId(customerId: string, eventId: string): string {
  return `d-${customerToken(customerId)}-${encodeURIComponent(eventId).replace(/[!'()*.~]/g, '_')}`;
}
