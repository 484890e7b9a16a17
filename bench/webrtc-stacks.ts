/**
 * WebRTC send-path benchmark: werift vs node-datachannel vs Switchboard's own transport.
 *
 * WHAT. For each stack, how many RTP packets per second ONE sender process can SRTP-protect and
 * send on loopback: 1200-byte VP8-like RTP packets (valid RTP headers, VP8 payload descriptor,
 * changing sequence numbers and timestamps, marker every 10th packet), sent in a tight loop that
 * yields to the event loop (setImmediate) every 256 packets; 1 s warm-up, then a 5 s window.
 * Reported per stack: packets/s the stack accepted (its own counter), Mbit/s of SRTP on the wire,
 * packets/s the receiver counted in the same window, the share of all packets sent that arrived,
 * the sender process's CPU (process.cpuUsage() deltas over the window, all its threads; 100% =
 * one core) and µs of sender CPU per packet; then ratios to werift.
 *   - werift 0.24.4: RTCPeerConnection + sendonly VP8 MediaStreamTrack, track.writeRtp(Buffer).
 *     Counted by RTCDtlsTransport.packetsSent/bytesSent. No NACK/PLI/REMB/TWCC, no header
 *     extensions (nothing but RTP → SRTP → UDP; a loss does not trigger retransmission).
 *   - node-datachannel 0.33.4 (libdatachannel): PeerConnection + SendOnly Video Track with the
 *     SSRC declared, raw RTP through track.sendMessageBinary(). Counted by true returns;
 *     bytes = packets x (1200 + the SRTP tag of the profile libdatachannel logs; its
 *     PeerConnection.bytesSent() stays 0 for media).
 *   - Switchboard: SRTP keys from an in-memory DtlsSession client/server handshake
 *     (@switchboard/dtls-srtp), one SrtpTable context, 50 SSRCs round robin (like 50 subscribers);
 *     per batch the plaintext packet is copied into each UdpBatch send slot (the SFU's fan-out copy),
 *     the header written, SrtpTable.protectBatch(sendData, sendQueue, n, OP_WORDS, OP_HEADER,
 *     OP_OFFSET, OP_LENGTH) with OP_HEADER = context id, then UdpBatch.flush(n) (sendmmsg) from
 *     one openUdp4('127.0.0.1', 0) socket (@switchboard/netio). Rows: AEAD_AES_128_GCM (werift
 *     negotiates it; libdatachannel picks AEAD_AES_256_GCM with itself) with 64 packets per flush and with 1 per flush (what
 *     batching buys), AES_CM_128_HMAC_SHA1_80 with 64 per flush, and a floor row: the same loop and
 *     sendmmsg without SRTP (the kernel's loopback cost, which every stack pays). Counted by
 *     flush()'s return. The receiver (recvmmsg, 8 MB SO_RCVBUF) unprotects the first 256 datagrams
 *     as a check. With 64/flush the note gives wall µs/pkt inside protectBatch and inside flush.
 * Each sender and each receiver is its own child process (the receiver must not steal the sender's
 * CPU), pinned with taskset to CPU 0 (sender) and CPU 1 (receiver) when there are 2+ CPUs.
 * Signaling (non-trickle SDP, or the Switchboard receiver's port and keys) goes over IPC.
 *
 * WHY. The SFU needs a server-side WebRTC stack, and its cost is dominated by the send side: for
 * every packet a publisher sends, one SRTP-protected copy per subscriber goes out. The issue asks
 * to choose the stack by measurement and record the comparison (see ../shared/LAB-NOTES.md for
 * the candidates that install here; mediasoup does not).
 *
 * HOW TO RUN (from the repo root; needs the dtls-srtp and netio addons built, werift and
 * node-datachannel in node_modules; takes ~45 s, bounded well under 2 min):
 *   node --conditions=source --import tsx bench/webrtc-stacks.ts
 *   node --conditions=source --import tsx bench/webrtc-stacks.ts --seconds 5 --warmup 1 \
 *     --only werift,ndc,sb64,sb1,sbcm,udp64 --no-pin --contexts 50 --ssrcs 50
 * A stack that fails to connect is reported with the reason; the others still run.
 * Loopback only (127.0.0.1). The receivers are the stacks' own (werift and node-datachannel
 * decrypt and deliver every packet through JS, so they may count fewer than were sent: that is
 * the receiver's limit, not the sender's). Figures drift between runs on a shared 2-core VM:
 * compare rows of the same run.
 *
 * LAST MEASURED (2026-11-24, Debian 12 VM, 2 cores shared with other work, Node v20.20.2, OpenSSL 3.0.19,
 * sender on CPU 0 and receiver on CPU 1; `node --conditions=source --import tsx bench/webrtc-stacks.ts`):
 *   werift 0.24.4 ... 72,895 pkt/s; node-datachannel ... SRTP_AEAD_AES_256_GCM (from its log);
 *   switchboard 64/flush GCM: protectBatch 0.40 µs/pkt, flush (sendmmsg) 3.43 µs/pkt wall;
 *   switchboard 64/flush CM: protectBatch 0.75, flush 3.44; floor: flush 3.25. Receiver SRTP check
 *   256/256 in every Switchboard row.
 *
 *   stack                        pkt/s sent  Mbit/s  rx pkt/s  rx/sent  snd CPU%  µs CPU/pkt  sys%  pkt/s/core  rcv CPU%               SRTP  setup ms
 *   ---------------------------  ----------  ------  --------  -------  --------  ----------  ----  ----------  --------  -----------------  --------
 *   werift 0.24.4                    72,895     709    39,515    54.7%        89       12.25   27%      81,645        49   AEAD_AES_128_GCM       238
 *   node-datachannel 0.33.4         263,415   2,562   263,286    99.8%        99        3.75   72%     266,655        98   AEAD_AES_256_GCM     1,015
 *   switchboard, 64/flush           258,064   2,510   258,046   100.0%       100        3.87   88%     258,115        54   AEAD_AES_128_GCM         5
 *   switchboard, 1/flush            224,725   2,186   224,704   100.0%        99        4.42   78%     226,114        57   AEAD_AES_128_GCM         5
 *   switchboard, 64/flush, CM       239,171   2,315   239,142   100.0%       100        4.18   80%     239,200        52  AES128_CM_SHA1_80         5
 *   floor: sendmmsg 64, no SRTP     304,344   2,922   304,319   100.0%       100        3.29   98%     304,394        67               none         5
 *
 *   relative to werift (pkt/s sent ×; sender CPU per packet: werift µs ÷ this µs ×):
 *     node-datachannel 0.33.4         3.6× pkt/s      3.3× less CPU per packet
 *     switchboard, 64/flush           3.5× pkt/s      3.2× less CPU per packet
 *     switchboard, 1/flush            3.1× pkt/s      2.8× less CPU per packet
 *     switchboard, 64/flush, CM       3.3× pkt/s      2.9× less CPU per packet
 *   total 42.3 s. An earlier run the same day (other work on the machine, load ~4): werift 86,651,
 *   node-datachannel 245,746, switchboard 64/flush 227,589, 1/flush 182,014, CM 223,625 pkt/s.
 *
 *   Reading: on loopback the kernel dominates. The floor row (no SRTP at all) costs 3.3 µs of
 *   sender CPU per packet, because the receive side's softirq work (IP/UDP input, copy into the
 *   receiving socket, waking the receiver) runs on the sending CPU. Above that floor Switchboard
 *   adds ~0.6 µs (GCM, 64/flush), node-datachannel ~0.5 µs (AES-256-GCM), werift ~9 µs. The floor
 *   itself depends on the receiver (a receiver that sleeps between packets, like Switchboard's
 *   recvmmsg one at ~55% CPU, costs the sender more wake-ups than one that is always busy, like
 *   node-datachannel's at ~98%), so node-datachannel and Switchboard are within the noise of each
 *   other here; both are ~3.3x werift. Batching (64 vs 1 per flush) saves ~0.55 µs/pkt (~15%).
 *   The sys% split is tick-sampled on this VM (rough); the total CPU is exact. Over a real NIC
 *   the receive-side kernel work leaves the sender and the per-packet user-space cost matters more.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ChildConfig, Msg, ReceiverResult, SenderResult } from './webrtc-stacks/common.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const childScript = path.join(here, 'webrtc-stacks', 'child.ts');

const { values: opt } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    only: { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
    contexts: { type: 'string', default: '1' },
    ssrcs: { type: 'string', default: '50' },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  console.log('node --conditions=source --import tsx bench/webrtc-stacks.ts [--seconds 5] [--warmup 1] [--only werift,ndc,sb64,sb1,sbcm,udp64] [--no-pin] [--contexts 1] [--ssrcs 50]');
  process.exit(0);
}
const measureMs = Math.min(20, Math.max(1, Number(opt.seconds))) * 1000;
const warmupMs = Math.min(5, Math.max(0, Number(opt.warmup))) * 1000;

interface Spec {
  id: string;
  label: string;
  cfg: Omit<ChildConfig, 'role' | 'warmupMs' | 'measureMs'>;
}
const common = { ssrcs: Number(opt.ssrcs), contexts: Number(opt.contexts) };
const ALL: Spec[] = [
  { id: 'werift', label: 'werift 0.24.4', cfg: { stack: 'werift' } },
  { id: 'ndc', label: 'node-datachannel 0.33.4', cfg: { stack: 'ndc' } },
  // werift and libdatachannel both negotiate AEAD_AES_128_GCM with each other: the Switchboard rows
  // use it too; the last row shows AES_CM_128_HMAC_SHA1_80.
  { id: 'sb64', label: 'switchboard, 64/flush', cfg: { stack: 'switchboard', batch: 64, profile: 'SRTP_AEAD_AES_128_GCM', ...common } },
  { id: 'sb1', label: 'switchboard, 1/flush', cfg: { stack: 'switchboard', batch: 1, profile: 'SRTP_AEAD_AES_128_GCM', ...common } },
  { id: 'sbcm', label: 'switchboard, 64/flush, CM', cfg: { stack: 'switchboard', batch: 64, profile: 'SRTP_AES128_CM_SHA1_80', ...common } },
  // The floor: the same loop and sendmmsg without SRTP (what the kernel's loopback path costs).
  { id: 'udp64', label: 'floor: sendmmsg 64, no SRTP', cfg: { stack: 'switchboard', batch: 64, noSrtp: true, ...common } },
];
const only = opt.only ? new Set(opt.only.split(',').map((s) => s.trim())) : null;
const specs = ALL.filter((s) => !only || only.has(s.id));

const cpus = os.availableParallelism();
const pin = !opt['no-pin'] && cpus >= 2 && existsSync('/usr/bin/taskset');

// ---- children ------------------------------------------------------------------------------

interface Kid {
  name: string;
  proc: ChildProcess;
  tail: string[];
  exited: boolean;
  exitInfo: string;
}
const kids = new Set<Kid>();

function startKid(name: string, cfg: ChildConfig, cpu: number, limitSec: number): Kid {
  const node = [process.execPath, '--conditions=source', '--import', 'tsx', childScript, JSON.stringify(cfg)];
  // `timeout` ends the child even if this process is SIGKILLed; detached: its own process group.
  const cmd = ['-k', '2', String(limitSec), ...(pin ? ['taskset', '-c', String(cpu)] : []), ...node];
  const proc = spawn('timeout', cmd, { cwd: repo, detached: true, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const kid: Kid = { name, proc, tail: [], exited: false, exitInfo: '' };
  const keep = (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (line.trim()) kid.tail.push(line);
    if (kid.tail.length > 30) kid.tail.splice(0, kid.tail.length - 30);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  proc.on('exit', (code, signal) => {
    kid.exited = true;
    kid.exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
    kids.delete(kid);
  });
  proc.on('error', (e) => {
    kid.exited = true;
    kid.exitInfo = e.message;
    kids.delete(kid);
  });
  kids.add(kid);
  return kid;
}

function killKid(k: Kid): void {
  if (k.exited || k.proc.pid === undefined) return;
  try {
    process.kill(-k.proc.pid, 'SIGKILL'); // the group: timeout, taskset/node and anything node started
  } catch {
    /* gone */
  }
}
const killAll = () => {
  for (const k of kids) killKid(k);
};
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });

/** Resolves with the next message of `type` from `k`; rejects on an 'error' message, exit or timeout. */
function expect<T extends Msg['type']>(k: Kid, type: T, ms: number): Promise<Extract<Msg, { type: T }>> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      k.proc.off('message', onMsg);
      k.proc.off('exit', onExit);
    };
    const onMsg = (raw: unknown) => {
      const m = raw as Msg;
      if (m.type === type) {
        done();
        resolve(m as Extract<Msg, { type: T }>);
      } else if (m.type === 'error') {
        done();
        reject(new Error(`${k.name}: ${m.message.split('\n').slice(0, 3).join(' | ')}`));
      }
    };
    const onExit = () => {
      done();
      reject(new Error(`${k.name} exited (${k.exitInfo || 'before answering'}) waiting for '${type}'${k.tail.length ? `; last output: ${k.tail.slice(-3).join(' | ')}` : ''}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${k.name}: no '${type}' after ${ms} ms${k.tail.length ? `; last output: ${k.tail.slice(-3).join(' | ')}` : ''}`));
    }, ms);
    k.proc.on('message', onMsg);
    k.proc.once('exit', onExit);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- one stack -----------------------------------------------------------------------------

interface Row {
  spec: Spec;
  error?: string;
  tx?: SenderResult;
  rx?: ReceiverResult;
}

async function runOne(spec: Spec): Promise<Row> {
  const base = { ...spec.cfg, warmupMs, measureMs } as ChildConfig;
  const limit = Math.ceil((warmupMs + measureMs) / 1000) + 30;
  const sender = startKid(`${spec.id} sender`, { ...base, role: 'sender' }, 0, limit);
  const receiver = startKid(`${spec.id} receiver`, { ...base, role: 'receiver' }, 1, limit);
  const errors: string[] = [];
  const onError = (k: Kid) => (raw: unknown) => {
    const m = raw as Msg;
    if (m.type === 'error') errors.push(`${k.name}: ${m.message.split('\n').slice(0, 3).join(' | ')}`);
  };
  sender.proc.on('message', onError(sender));
  receiver.proc.on('message', onError(receiver));
  // Relay signaling both ways, and the sender's window marks to the receiver; hold messages for a
  // child until it has said hello (it listens from then on). Attached at once: a child's first
  // message can arrive in the same read as its hello.
  const relay = (from: Kid, to: Kid, types: Msg['type'][]) => {
    let ready = false;
    const held: Msg[] = [];
    to.proc.on('message', (raw) => {
      if ((raw as Msg).type !== 'hello') return;
      ready = true;
      for (const m of held.splice(0)) if (!to.exited) to.proc.send(m);
    });
    from.proc.on('message', (raw) => {
      const m = raw as Msg;
      if (!types.includes(m.type) || to.exited) return;
      if (ready) to.proc.send(m);
      else held.push(m);
    });
  };
  relay(sender, receiver, ['signal', 'mark']);
  relay(receiver, sender, ['signal']);
  const hellos = Promise.all([expect(sender, 'hello', 15_000), expect(receiver, 'hello', 15_000)]);
  try {
    await hellos;
    const receiverAlive = new Promise<never>((_, reject) =>
      receiver.proc.once('exit', () => reject(new Error(`${receiver.name} exited (${receiver.exitInfo}) ${errors.join('; ')}`))),
    );
    receiverAlive.catch(() => {});
    await Promise.race([expect(sender, 'connected', 20_000), receiverAlive]);
    sender.proc.send({ type: 'run' } satisfies Msg);
    const { result: tx } = await Promise.race([expect(sender, 'result', warmupMs + measureMs + 15_000), receiverAlive]);
    await sleep(400); // let the receiver drain its socket
    receiver.proc.send({ type: 'report' } satisfies Msg);
    let rx: ReceiverResult | undefined;
    try {
      rx = (await expect(receiver, 'counts', 5_000)).result;
    } catch (e) {
      errors.push(`receiver counts: ${(e as Error).message}`);
    }
    return { spec, tx, rx, error: errors.length ? errors.join('; ') : undefined };
  } catch (e) {
    const msg = errors.length ? errors.join('; ') : (e as Error).message;
    return { spec, error: msg };
  } finally {
    killKid(sender);
    killKid(receiver);
    await sleep(200);
  }
}

// ---- report --------------------------------------------------------------------------------

function profileOf(bytesPerPkt: number): string {
  if (!Number.isFinite(bytesPerPkt) || bytesPerPkt <= 0) return '?';
  const tag = bytesPerPkt - 1200;
  if (tag > 9 && tag < 13) return 'CM_HMAC_SHA1_80 (10 B tag)';
  if (tag > 15 && tag < 19) return 'AEAD_AES_GCM (16 B tag)';
  return `${bytesPerPkt.toFixed(0)} B/pkt`;
}

const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a');

function table(rows: Row[]): string[] {
  const out: string[] = [];
  const head = ['stack', 'pkt/s sent', 'Mbit/s', 'rx pkt/s', 'rx/sent', 'snd CPU%', 'µs CPU/pkt', 'sys%', 'pkt/s/core', 'rcv CPU%', 'SRTP', 'setup ms'];
  const body: string[][] = [];
  for (const r of rows) {
    if (!r.tx) {
      body.push([r.spec.label, 'FAILED', ...head.slice(2).map(() => '')]);
      continue;
    }
    const s = r.tx.wallMs / 1000;
    const pps = r.tx.packets / s;
    const mbit = r.tx.bytes >= 0 ? (r.tx.bytes * 8) / s / 1e6 : NaN;
    const cpuUs = r.tx.userUs + r.tx.systemUs;
    const rxPps = r.rx && r.rx.windowMs > 0 ? r.rx.windowPackets / (r.rx.windowMs / 1000) : NaN;
    const share = r.rx ? r.rx.totalPackets / r.tx.totalPackets : NaN;
    const rcvCpu = r.rx && r.rx.windowMs > 0 ? ((r.rx.userUs + r.rx.systemUs) / 1000 / r.rx.windowMs) * 100 : NaN;
    body.push([
      r.spec.label,
      fmt(pps),
      fmt(mbit),
      fmt(rxPps),
      Number.isFinite(share) ? `${(share * 100).toFixed(1)}%` : 'n/a',
      fmt((cpuUs / 1000 / r.tx.wallMs) * 100, 0),
      fmt(cpuUs / r.tx.packets, 2),
      `${((r.tx.systemUs / cpuUs) * 100).toFixed(0)}%`,
      fmt(r.tx.packets / (cpuUs / 1e6)),
      fmt(rcvCpu, 0),
      r.tx.profile ?? profileOf(r.tx.bytes / r.tx.packets),
      fmt(r.tx.setupMs),
    ]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  out.push(line(head));
  out.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) out.push(line(b));
  out.push('sys% = kernel share of the sender CPU (on loopback the receiving socket\'s softirq work runs on the sending CPU too).');
  out.push('pkt/s/core = 1 / (µs CPU/pkt): the send rate one fully available core would give.');
  const starved = rows.filter((r) => r.tx && (r.tx.userUs + r.tx.systemUs) / 1000 / r.tx.wallMs < 0.85);
  if (starved.length)
    out.push(
      `! sender below 85% of a core: ${starved.map((r) => r.spec.label).join(', ')} — its loop never waits, so it was denied CPU ` +
        `(other load on the machine, or sharing its core with the kernel's loopback work): trust µs CPU/pkt over pkt/s there.`,
    );

  const ref = rows.find((r) => r.spec.id === 'werift' && r.tx);
  if (ref?.tx) {
    const refPps = ref.tx.packets / (ref.tx.wallMs / 1000);
    const refUs = (ref.tx.userUs + ref.tx.systemUs) / ref.tx.packets;
    out.push('');
    out.push('relative to werift (pkt/s sent ×; sender CPU per packet: werift µs ÷ this µs ×):');
    for (const r of rows) {
      if (!r.tx || r === ref || r.spec.id === 'udp64') continue;
      const pps = r.tx.packets / (r.tx.wallMs / 1000);
      const us = (r.tx.userUs + r.tx.systemUs) / r.tx.packets;
      out.push(`  ${r.spec.label.padEnd(widths[0]!)}  ${(pps / refPps).toFixed(1).padStart(6)}× pkt/s   ${(refUs / us).toFixed(1).padStart(6)}× less CPU per packet`);
    }
  } else out.push('', 'no werift row: no ratios');
  return out;
}

// ---- main ----------------------------------------------------------------------------------

const t0 = performance.now();
console.log(
  `webrtc-stacks: node ${process.version}, OpenSSL ${process.versions.openssl}, ${cpus} CPUs, load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}; ` +
    `1200 B RTP, ${warmupMs / 1000} s warm-up + ${measureMs / 1000} s window per stack; ${pin ? 'sender on CPU 0, receiver on CPU 1 (taskset)' : 'not pinned'}`,
);
const rows: Row[] = [];
for (const spec of specs) {
  process.stdout.write(`  ${spec.label} ... `);
  const r = await runOne(spec);
  rows.push(r);
  if (r.tx) {
    console.log(
      `${fmt(r.tx.packets / (r.tx.wallMs / 1000))} pkt/s [${r.tx.counter}${r.tx.refused ? `; ${r.tx.refused} refused` : ''}]` +
        `${r.tx.note ? ` (${r.tx.note})` : ''}${r.rx?.note ? ` receiver: ${r.rx.note}` : ''}${r.error ? ` — ${r.error}` : ''}`,
    );
  } else console.log(`FAILED: ${r.error}`);
}
console.log('');
for (const l of table(rows)) console.log(l);
console.log(`\ntotal ${((performance.now() - t0) / 1000).toFixed(1)} s`);
killAll();
process.exit(0);
