// Shared pieces of bench/webrtc-stacks.ts's child processes: the IPC protocol with the
// orchestrator, the RTP packet template, and the timed send loop (warm-up, window, CPU).
import { randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';

/** RTP packet size before SRTP (12-byte header + 1188 bytes of VP8-like payload). */
export const PKT = 1200;
export const VP8_PT = 96;
/** How many packets each loop sends between two event-loop yields (setImmediate). */
export const CHUNK = 256;

export type Stack = 'werift' | 'ndc' | 'switchboard';

/** What the orchestrator passes to a child in its argv (JSON). */
export interface ChildConfig {
  stack: Stack;
  role: 'sender' | 'receiver';
  warmupMs: number;
  measureMs: number;
  /** Switchboard: packets per protectBatch + flush. */
  batch?: number;
  /** Switchboard: SRTP profile. */
  profile?: 'SRTP_AES128_CM_SHA1_80' | 'SRTP_AEAD_AES_128_GCM';
  /** Switchboard: SSRCs round robin (one per simulated subscriber). */
  ssrcs?: number;
  /** Switchboard: skip SRTP (the bare sendmmsg floor). */
  noSrtp?: boolean;
  /** Switchboard: SrtpTable contexts, round robin with the SSRCs (1 = one context, as one transport). */
  contexts?: number;
}

/** Sender -> orchestrator at the end of the measured window. */
export interface SenderResult {
  /** Packets the stack accepted in the window (its own counter where it has one). */
  packets: number;
  /** SRTP bytes the stack put on the wire in the window (UDP payload), when known. */
  bytes: number;
  /** How the packets/bytes were counted. */
  counter: string;
  /** Send calls made in the window (writeRtp / sendMessageBinary / queued ops). */
  calls: number;
  /** Send calls refused (false returns, ops the kernel did not take). */
  refused: number;
  wallMs: number;
  /** process.cpuUsage() delta, µs (all threads of the sender process). */
  userUs: number;
  systemUs: number;
  /** Packets sent over the whole run (warm-up included), to compare with the receiver's total. */
  totalPackets: number;
  setupMs: number;
  /** SRTP profile, when the stack tells. */
  profile?: string;
  note?: string;
}

/** Receiver -> orchestrator when asked for its counts. */
export interface ReceiverResult {
  /** RTP packets counted between the 'mark start' and 'mark end' messages. */
  windowPackets: number;
  windowMs: number;
  totalPackets: number;
  userUs: number;
  systemUs: number;
  note?: string;
}

export type Msg =
  | { type: 'hello' } // the child is loaded and listening
  | { type: 'signal'; data: unknown } // offer/answer/port/keys, relayed between sender and receiver
  | { type: 'connected'; setupMs: number }
  | { type: 'run' }
  | { type: 'mark'; phase: 'start' | 'end' }
  | { type: 'result'; result: SenderResult }
  | { type: 'report' }
  | { type: 'counts'; result: ReceiverResult }
  | { type: 'error'; message: string };

export function send(msg: Msg): void {
  process.send?.(msg);
}

const waiting: Array<{ type: Msg['type']; resolve: (m: Msg) => void }> = [];
const queued: Msg[] = [];
const listeners: Array<(m: Msg) => boolean> = [];

process.on('message', (raw) => {
  const m = raw as Msg;
  for (const l of listeners) if (l(m)) return;
  const i = waiting.findIndex((w) => w.type === m.type);
  if (i >= 0) waiting.splice(i, 1)[0]!.resolve(m);
  else queued.push(m);
});
// The orchestrator going away ends the child.
process.on('disconnect', () => process.exit(0));
// Messages that arrive before this module has run would be lost: the orchestrator sends nothing
// before this.
process.send?.({ type: 'hello' });

/** The next IPC message of this type (queued ones first). */
export function next<T extends Msg['type']>(type: T): Promise<Extract<Msg, { type: T }>> {
  const i = queued.findIndex((m) => m.type === type);
  if (i >= 0) return Promise.resolve(queued.splice(i, 1)[0] as Extract<Msg, { type: T }>);
  return new Promise((resolve) => waiting.push({ type, resolve: resolve as (m: Msg) => void }));
}

/** Handles every message of this type as it comes (synchronously, in the message event). */
export function on<T extends Msg['type']>(type: T, cb: (m: Extract<Msg, { type: T }>) => void): void {
  listeners.push((m) => {
    if (m.type !== type) return false;
    cb(m as Extract<Msg, { type: T }>);
    return true;
  });
}

/** A 1200-byte VP8-like RTP packet: V=2, PT 96, VP8 payload descriptor (S=1, PictureID), random bytes. */
export function rtpTemplate(ssrc: number): Buffer {
  const p = Buffer.alloc(PKT);
  randomFillSync(p, 12);
  p[0] = 0x80;
  p[1] = VP8_PT;
  p.writeUInt32BE(ssrc >>> 0, 8);
  // VP8 payload descriptor (RFC 7741): X=1 S=1 PID=0, I=1, 15-bit PictureID; then a VP8 header byte.
  p[12] = 0x90;
  p[13] = 0x80;
  p[14] = 0x80;
  p[15] = 0x00;
  p[16] = 0x10; // inter frame, show_frame
  return p;
}

/**
 * Writes seq/timestamp (and the marker on the last packet of a "frame": every 10th packet of a
 * stream) into an RTP header at `off`. 10 packets per 33 ms frame ≈ 300 pkt/s per stream.
 */
export function writeSeqTs(buf: Uint8Array, off: number, seq: number, ts: number, marker: boolean): void {
  buf[off + 1] = marker ? VP8_PT | 0x80 : VP8_PT;
  buf[off + 2] = (seq >>> 8) & 0xff;
  buf[off + 3] = seq & 0xff;
  buf[off + 4] = (ts >>> 24) & 0xff;
  buf[off + 5] = (ts >>> 16) & 0xff;
  buf[off + 6] = (ts >>> 8) & 0xff;
  buf[off + 7] = ts & 0xff;
}

export function writeSsrc(buf: Uint8Array, off: number, ssrc: number): void {
  buf[off + 8] = (ssrc >>> 24) & 0xff;
  buf[off + 9] = (ssrc >>> 16) & 0xff;
  buf[off + 10] = (ssrc >>> 8) & 0xff;
  buf[off + 11] = ssrc & 0xff;
}

/** Per-stream sequence number and timestamp, as an encoder's packetizer would advance them. */
export class StreamClock {
  seq: number;
  ts: number;
  private n = 0;
  constructor(seed: number) {
    this.seq = (seed * 7919) & 0xffff;
    this.ts = (seed * 104729) >>> 0;
  }
  /** Advances to the next packet; returns true for the last packet of a frame (marker bit). */
  step(): boolean {
    this.seq = (this.seq + 1) & 0xffff;
    if (++this.n === 10) {
      this.n = 0;
      this.ts = (this.ts + 3000) >>> 0;
      return true;
    }
    return false;
  }
}

export interface Counters {
  /** Packets (per the stack's own counter). */
  packets(): number;
  /** SRTP bytes on the wire, or -1 when the stack does not count them. */
  bytes(): number;
  calls: number;
  refused: number;
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Calls `sendChunk()` (which sends CHUNK packets and updates `c`) in a loop, yielding to the event
 * loop after each chunk: warm-up, then the measured window, bracketed by 'mark' messages to the
 * orchestrator (which tells the receiver to snapshot its count). Bounded by the clock.
 */
export async function timedSendLoop(cfg: ChildConfig, c: Counters, sendChunk: () => void, counter: string, setupMs: number, note?: string): Promise<SenderResult> {
  const t0 = performance.now();
  while (performance.now() - t0 < cfg.warmupMs) {
    sendChunk();
    await yieldToLoop();
  }
  send({ type: 'mark', phase: 'start' });
  const p0 = c.packets();
  const b0 = c.bytes();
  const calls0 = c.calls;
  const refused0 = c.refused;
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  let w1 = w0;
  while ((w1 = performance.now()) - w0 < cfg.measureMs) {
    sendChunk();
    await yieldToLoop();
  }
  const cpu = process.cpuUsage(cpu0);
  const p1 = c.packets();
  const b1 = c.bytes();
  send({ type: 'mark', phase: 'end' });
  return {
    packets: p1 - p0,
    bytes: b0 < 0 ? -1 : b1 - b0,
    counter,
    calls: c.calls - calls0,
    refused: c.refused - refused0,
    wallMs: w1 - w0,
    userUs: cpu.user,
    systemUs: cpu.system,
    totalPackets: p1,
    setupMs,
    note,
  };
}

/**
 * Receiver side of the window: snapshots `count()` and the process CPU on 'mark' messages, and
 * answers 'report' with the counts.
 */
export function serveReceiverCounts(count: () => number, note?: () => string | undefined): void {
  let startCount = 0;
  let endCount = -1;
  let startT = 0;
  let endT = 0;
  let cpu0 = process.cpuUsage();
  let cpu = { user: 0, system: 0 };
  on('mark', (m) => {
    if (m.phase === 'start') {
      startCount = count();
      startT = performance.now();
      cpu0 = process.cpuUsage();
    } else {
      endCount = count();
      endT = performance.now();
      cpu = process.cpuUsage(cpu0);
    }
  });
  on('report', () => {
    send({
      type: 'counts',
      result: {
        windowPackets: endCount < 0 ? 0 : endCount - startCount,
        windowMs: endT - startT,
        totalPackets: count(),
        userUs: cpu.user,
        systemUs: cpu.system,
        note: note?.(),
      },
    });
  });
}

export function config(): ChildConfig {
  const raw = process.argv[2];
  if (!raw) throw new Error('usage: child.ts <json config> (started by bench/webrtc-stacks.ts)');
  return JSON.parse(raw) as ChildConfig;
}

export function fail(e: unknown): never {
  const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
  send({ type: 'error', message });
  // Let the IPC message go out before exiting.
  setTimeout(() => process.exit(1), 100);
  throw e;
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no result after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
