// The server's counters as one Float64Array with a fixed layout, so relay threads can keep
// theirs in shared memory and the metrics endpoint can add them up without messages.

export const COUNTERS = [
  'allocations',
  'permissions',
  'channels',
  'toPeerPackets',
  'toPeerBytes',
  'toClientPackets',
  'toClientBytes',
  'droppedNoPermission',
  'droppedBandwidth',
  'droppedMalformed',
  'stunRequests',
  'authFailBadIntegrity',
  'authFailUnknownUser',
  'authFailExpired',
  'authFailStaleNonce',
  'authFailBadRequest',
  'authFailWrongCredentials',
  'allocateErrors',
] as const;

export type CounterName = (typeof COUNTERS)[number];

/** Index of each counter in the array. */
export const C = Object.fromEntries(COUNTERS.map((n, i) => [n, i])) as Record<CounterName, number>;

export function createCounters(buffer?: SharedArrayBuffer): Float64Array {
  return buffer ? new Float64Array(buffer) : new Float64Array(COUNTERS.length);
}

export function counterBytes(): number {
  return COUNTERS.length * Float64Array.BYTES_PER_ELEMENT;
}

/** Sums several threads' counters into a name -> value record. */
export function sumCounters(arrays: Float64Array[]): Record<CounterName, number> {
  const out = {} as Record<CounterName, number>;
  COUNTERS.forEach((name, i) => {
    let s = 0;
    for (const a of arrays) s += a[i];
    out[name] = s;
  });
  return out;
}
