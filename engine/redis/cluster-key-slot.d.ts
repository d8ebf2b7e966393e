// The package ships no types. It is the slot function ioredis routes Cluster commands with.
declare module 'cluster-key-slot' {
  /** The Redis Cluster slot (0-16383) of a key, honouring a `{hash tag}` in it. */
  function calculateSlot(key: string): number;
  export default calculateSlot;
}
