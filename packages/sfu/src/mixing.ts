// The MCU strategy: publishers' packets go to the room's media engine (a RoomMixer, mixer.ts)
// through a tap on each producer, and nobody consumes them directly. Each participant receives
// two tracks the engine makes, whatever the room size: its own N-1 audio mix and the room's
// composed video. They enter synthetic producers, so consumers, NACK answers, PLI and REMB
// work as for forwarded tracks; this strategy sends their sender reports (there is no
// publisher SR to translate).
import { MCU_VIDEO_TRACK_SID, mcuAudioTrackSid } from '@switchboard/protocol';
import { ntpNow, rtpTimestamp, writeSenderReport } from '@switchboard/rtp';
import { MCU_PUBLISHER_CODECS, syntheticProducer } from './mixer.js';
import type { MixerFactory, RoomMixer } from './mixer.js';
import type { PublisherLimits } from './negotiation.js';
import type { SfuParticipant } from './participant.js';
import type { Producer } from './producer.js';
import type { MediaStrategy, StrategyFactory, StrategyRoom } from './strategy.js';

const srOut = new Uint8Array(128);

export class MixingStrategy implements MediaStrategy {
  readonly publisherLimits: PublisherLimits = { dataChannels: true, codecs: MCU_PUBLISHER_CODECS, redundancy: false };
  readonly mixer: RoomMixer;
  /** The room's composed video. */
  private readonly mixedVideo: Producer;
  /** Each participant's N-1 audio mix, by participant sid. */
  private readonly mixes = new Map<string, Producer>();
  /** The engine's streams are made in real time: each one's last RTP timestamp and when it came, for sender reports. */
  private readonly lastMixed = new Map<Producer, { ts: number; atMs: number }>();
  private receiverBps = -1;
  private ticks = 0;

  constructor(
    private readonly room: StrategyRoom,
    mixerFactory: MixerFactory,
  ) {
    this.mixedVideo = syntheticProducer('video', MCU_VIDEO_TRACK_SID, () => this.mixer?.keyframeRequested());
    room.router.addProducer(this.mixedVideo);
    this.mixer = mixerFactory(room.sid, {
      audio: (to, pkt) => {
        const mix = this.mixes.get(to);
        if (mix !== undefined) this.mixedIn(mix, pkt);
      },
      video: (pkt) => this.mixedIn(this.mixedVideo, pkt),
      requestKeyframe: (from) => {
        const now = Date.now();
        for (const pr of room.participants.get(from)?.producers.values() ?? []) if (pr.kind === 'video') pr.requestKeyframe(0, now);
      },
    });
  }

  private mixedIn(producer: Producer, pkt: Uint8Array): void {
    const now = Date.now();
    if (pkt.length >= 12) this.lastMixed.set(producer, { ts: rtpTimestamp(pkt, 0), atMs: now });
    producer.receive(pkt, 0, pkt.length, producer.layers[0], now);
  }

  joined(p: SfuParticipant, name: string, nowMs: number): void {
    // one audio track (everyone but p) and one video track (the room), whatever the room size
    const mix = syntheticProducer('audio', mcuAudioTrackSid(p.sid), () => undefined);
    this.room.router.addProducer(mix);
    this.mixes.set(p.sid, mix);
    this.mixer.participantJoined(p.sid, name);
    p.subscribe(mix, nowMs, false); // one offer with both
    p.subscribe(this.mixedVideo, nowMs);
  }

  left(sid: string): void {
    this.mixer.participantLeft(sid);
    const mix = this.mixes.get(sid);
    if (mix === undefined) return;
    this.mixes.delete(sid);
    this.lastMixed.delete(mix);
    mix.close();
    this.room.router.removeProducer(mix);
  }

  producerReady(owner: SfuParticipant, producer: Producer, nowMs: number): void {
    const mixer = this.mixer;
    const sid = owner.sid;
    const kind = producer.kind;
    this.room.router.addTap(producer, { forward: (buf, off, len) => mixer.media(sid, kind, buf, off, len) });
    if (kind === 'video') producer.requestKeyframe(0, nowMs);
  }

  producerClosed(owner: SfuParticipant, producer: Producer): void {
    if (producer.kind === 'video') this.mixer.videoEnded(owner.sid);
  }

  /** Only the mixed tracks can be (re)subscribed. */
  resubscribe(p: SfuParticipant, trackSid: string, nowMs: number): void {
    const mixed = trackSid === this.mixedVideo.id ? this.mixedVideo : this.mixes.get(p.sid);
    if (mixed !== undefined && mixed.id === trackSid) p.subscribe(mixed, nowMs);
  }

  /** The mixed tracks have one layer each: nothing to pick. */
  subscriberChanged(): void {}

  tick(): void {
    // the composed video goes to everyone: its bitrate follows the weakest receiver
    let bps = 0;
    for (const p of this.room.participants.values()) if (p.subscriberBps > 0 && (bps === 0 || p.subscriberBps < bps)) bps = p.subscriberBps;
    if (bps !== this.receiverBps) {
      this.receiverBps = bps;
      this.mixer.receiverBitrate(bps);
    }
    if (++this.ticks % 2 === 0) this.sendMixSenderReports(); // every second
  }

  /** Sender reports for the mixed streams, so receivers can sync the room's audio and video: the last packet's timestamp at its wall-clock time. */
  sendMixSenderReports(): void {
    for (const [producer, last] of this.lastMixed) {
      if (producer.closed) {
        this.lastMixed.delete(producer);
        continue;
      }
      const ntp = ntpNow(last.atMs);
      for (const c of this.room.router.consumersOf(producer)) {
        if (c.paused || c.packetsSent === 0) continue;
        const n = writeSenderReport(srOut, 0, { ssrc: c.params.ssrc, ntpSec: ntp.sec, ntpFrac: ntp.frac, rtpTimestamp: c.outTimestamp(last.ts), packetCount: c.packetsSent >>> 0, octetCount: c.bytesSent >>> 0 });
        c.sender.send(srOut, 0, n);
      }
    }
  }

  activeSpeakers(sids: string[]): void {
    this.mixer.activeSpeakers(sids);
  }

  close(): void {
    this.mixer.close();
    this.mixedVideo.close();
    for (const m of this.mixes.values()) m.close();
    this.mixes.clear();
    this.lastMixed.clear();
  }
}

/** Rooms that mix, with the engine the factory makes per room. */
export function mixing(mixerFactory: MixerFactory): StrategyFactory {
  return (room) => new MixingStrategy(room, mixerFactory);
}
