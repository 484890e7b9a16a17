// What every load-generator peer needs: a wall clock shared between processes, random SSRCs,
// polling with a deadline, the local SDP once ICE gathering is done, and clock rates from an SDP.
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';

/** Wall-clock ms with sub-ms resolution, comparable between processes on this machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function randomSsrc(): number {
  return randomBytes(4).readUInt32BE(0) || 1;
}

/** Polls until `ok()` holds; rejects with `what()` after `timeoutMs` or when `failed()` says why. */
export function pollUntil(ok: () => boolean, what: () => string, timeoutMs: number, failed?: () => string | null, everyMs = 10): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const poll = () => {
      if (ok()) return resolve();
      const f = failed?.() ?? null;
      if (f !== null) return reject(new Error(f));
      if (Date.now() - t0 > timeoutMs) return reject(new Error(`${what()} after ${timeoutMs} ms`));
      setTimeout(poll, everyMs);
    };
    poll();
  });
}

/**
 * Resolves with the local SDP once ICE gathering is complete (candidates included); optionally
 * only a description of `type`, or one that differs from `notSdp` (a renegotiation's).
 */
export function localSdpWhenGathered(pc: { localDescription(): { sdp: string; type: string } | null; gatheringState(): string }, timeoutMs = 10_000, type?: string, notSdp?: string): Promise<string> {
  let sdp = '';
  return pollUntil(
    () => {
      const d = pc.localDescription();
      if (!d || pc.gatheringState() !== 'complete') return false;
      if (type !== undefined && d.type !== type) return false;
      if (notSdp !== undefined && d.sdp === notSdp) return false;
      sdp = d.sdp;
      return true;
    },
    () => `ICE gathering not complete (state ${pc.gatheringState()})`,
    timeoutMs,
    undefined,
    5,
  ).then(() => sdp);
}

/** PT -> clock rate from an SDP's a=rtpmap lines. */
export function clockRatesFromSdp(sdp: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of sdp.matchAll(/^a=rtpmap:(\d+) [^/\s]+\/(\d+)/gm)) out.set(Number(m[1]), Number(m[2]));
  return out;
}
