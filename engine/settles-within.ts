/**
 * Whether `promise` settles (either way) within `ms`: for shutdown steps that wait on Redis or a
 * provider, so a process that must stop does not wait for ever on one that stopped answering.
 */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => (timer = setTimeout(resolve, ms, false))),
  ]);
  clearTimeout(timer);
  return settled;
}
