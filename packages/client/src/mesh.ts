import type { EngineHost, EngineSignal, LocalTrackEntry, MediaEngine } from './engine.js';

interface Peer {
  sid: string;
  pc: RTCPeerConnection;
  polite: boolean;
  makingOffer: boolean;
  ignoreOffer: boolean;
  isSettingRemoteAnswerPending: boolean;
  senders: Map<MediaStreamTrack, RTCRtpSender>;
  pendingCandidates: RTCIceCandidateInit[];
  /** Existing participant: wait for the newer one's first offer before offering ourselves. */
  awaitingOffer: boolean;
  fallbackTimer?: ReturnType<typeof setTimeout>;
}

/** If the newer participant has not offered within this time (e.g. it publishes nothing), offer anyway. */
const OFFER_FALLBACK_MS = 3000;

/** One RTCPeerConnection per remote participant, perfect negotiation (polite = lexically smaller sid). */
export class MeshEngine implements MediaEngine {
  private peers = new Map<string, Peer>();
  private localTracks: LocalTrackEntry[] = [];
  private closed = false;

  constructor(
    private readonly localSid: string,
    private readonly config: RTCConfiguration,
    private readonly host: EngineHost,
  ) {}

  /**
   * initiator = we are the newer participant (we offer, via onnegotiationneeded once a track is
   * added). Otherwise the connection is prepared with our tracks but waits for the newer side's offer.
   */
  addPeer(sid: string, initiator: boolean): void {
    this.ensurePeer(sid, initiator);
  }

  private ensurePeer(sid: string, initiator = true): Peer {
    const existing = this.peers.get(sid);
    if (existing) return existing;
    const pc = new RTCPeerConnection(this.config);
    const peer: Peer = {
      sid,
      pc,
      polite: this.localSid < sid,
      makingOffer: false,
      ignoreOffer: false,
      isSettingRemoteAnswerPending: false,
      senders: new Map(),
      pendingCandidates: [],
      awaitingOffer: !initiator,
    };
    this.peers.set(sid, peer);
    pc.onicecandidate = ({ candidate }) => {
      if (this.closed || this.peers.get(sid) !== peer) return;
      this.host.send({ type: 'candidate', to: sid, candidate: candidate ? candidateInit(candidate) : null });
    };
    const negotiate = async () => {
      if (this.peers.get(sid) !== peer || pc.signalingState === 'closed') return;
      if (peer.awaitingOffer) {
        // Chrome re-evaluates negotiation-needed when the remote offer/answer returns to stable.
        peer.fallbackTimer ??= setTimeout(() => {
          if (!peer.awaitingOffer) return;
          peer.awaitingOffer = false;
          void negotiate();
        }, OFFER_FALLBACK_MS);
        return;
      }
      try {
        peer.makingOffer = true;
        await pc.setLocalDescription();
        const desc = pc.localDescription;
        if (desc && desc.type === 'offer') this.host.send({ type: 'offer', to: sid, sdp: desc.sdp });
      } catch (err) {
        this.host.log('mesh: negotiation failed', sid, err);
      } finally {
        peer.makingOffer = false;
      }
    };
    pc.onnegotiationneeded = negotiate;
    pc.ontrack = (ev) => {
      const stream = ev.streams[0];
      if (!stream) return;
      this.host.onRemoteTrack(sid, ev.track, stream.id);
    };
    pc.oniceconnectionstatechange = () => {
      if (pc.iceConnectionState === 'failed') {
        this.host.log('mesh: ICE failed, restarting', sid);
        pc.restartIce();
      }
    };
    for (const entry of this.localTracks) peer.senders.set(entry.track, pc.addTrack(entry.track, entry.stream));
    return peer;
  }

  removePeer(sid: string): void {
    const peer = this.peers.get(sid);
    if (!peer) return;
    this.peers.delete(sid);
    clearTimeout(peer.fallbackTimer);
    peer.pc.close();
  }

  addLocalTrack(entry: LocalTrackEntry): void {
    this.localTracks.push(entry);
    for (const peer of this.peers.values()) {
      if (!peer.senders.has(entry.track)) peer.senders.set(entry.track, peer.pc.addTrack(entry.track, entry.stream));
    }
  }

  removeLocalTrack(entry: LocalTrackEntry): void {
    this.localTracks = this.localTracks.filter((e) => e.track !== entry.track);
    for (const peer of this.peers.values()) {
      const sender = peer.senders.get(entry.track);
      if (sender) {
        peer.senders.delete(entry.track);
        try {
          peer.pc.removeTrack(sender);
        } catch (err) {
          this.host.log('mesh: removeTrack failed', err);
        }
      }
    }
  }

  onSignal(msg: EngineSignal): void {
    const from = msg.from;
    if (!from || this.closed) return;
    void this.handleSignal(from, msg);
  }

  private async handleSignal(from: string, msg: EngineSignal): Promise<void> {
    const peer = this.ensurePeer(from, false);
    const pc = peer.pc;
    if (msg.type === 'offer' && peer.awaitingOffer) {
      peer.awaitingOffer = false;
      clearTimeout(peer.fallbackTimer);
    }
    try {
      if (msg.type === 'offer' || msg.type === 'answer') {
        const description: RTCSessionDescriptionInit = { type: msg.type, sdp: msg.sdp };
        const readyForOffer = !peer.makingOffer && (pc.signalingState === 'stable' || peer.isSettingRemoteAnswerPending);
        const offerCollision = description.type === 'offer' && !readyForOffer;
        peer.ignoreOffer = !peer.polite && offerCollision;
        if (peer.ignoreOffer) return;
        peer.isSettingRemoteAnswerPending = description.type === 'answer';
        await pc.setRemoteDescription(description);
        peer.isSettingRemoteAnswerPending = false;
        for (const c of peer.pendingCandidates.splice(0)) await pc.addIceCandidate(c).catch(() => undefined);
        if (description.type === 'offer') {
          await pc.setLocalDescription();
          const desc = pc.localDescription;
          if (desc) this.host.send({ type: 'answer', to: from, sdp: desc.sdp });
        }
      } else {
        const c = msg.candidate;
        const init: RTCIceCandidateInit = c
          ? { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null, usernameFragment: c.usernameFragment ?? null }
          : { candidate: '' };
        if (!pc.remoteDescription) {
          if (!peer.ignoreOffer) peer.pendingCandidates.push(init);
          return;
        }
        try {
          await pc.addIceCandidate(c ? init : undefined);
        } catch (err) {
          if (!peer.ignoreOffer) this.host.log('mesh: addIceCandidate failed', err);
        }
      }
    } catch (err) {
      this.host.log('mesh: signal handling failed', from, msg.type, err);
    }
  }

  onReconnected(): void {
    // Peer connections carry media directly; restart ICE on any that are not healthy.
    for (const peer of this.peers.values()) {
      const s = peer.pc.iceConnectionState;
      if (s === 'failed' || s === 'disconnected') peer.pc.restartIce();
    }
  }

  async getStats(): Promise<Map<string, RTCStatsReport>> {
    const out = new Map<string, RTCStatsReport>();
    await Promise.all(
      [...this.peers.values()].map(async (p) => {
        out.set(p.sid, await p.pc.getStats());
      }),
    );
    return out;
  }

  close(): void {
    this.closed = true;
    for (const sid of [...this.peers.keys()]) this.removePeer(sid);
  }
}

function candidateInit(c: RTCIceCandidate) {
  return { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex, usernameFragment: c.usernameFragment };
}
