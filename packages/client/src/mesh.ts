import type { EngineHost, EngineSignal, LocalTrackEntry, MediaEngine, MediaKind } from './engine.js';

interface Peer {
  sid: string;
  pc: RTCPeerConnection;
  /**
   * This side creates every offer of the pair: the newer participant (PROTOCOL.md §7). The other
   * side never offers; when it needs a negotiation (a new track, ICE restart) it sends
   * `requestOffer`. One offerer per pair means no glare, so no rollback: Chromium keeps decoding a
   * video receiver's frames after a rollback of an offer that re-offered it, but stops delivering
   * them to the MediaStreamTrack the application holds (test/e2e/mesh-chromium.test.ts, canvas).
   */
  offerer: boolean;
  /** Perfect negotiation's role, used only if the other side offers anyway (a peer without requestOffer). */
  polite: boolean;
  makingOffer: boolean;
  ignoreOffer: boolean;
  isSettingRemoteAnswerPending: boolean;
  senders: Map<MediaStreamTrack, RTCRtpSender>;
  pendingCandidates: RTCIceCandidateInit[];
  /** Answering side: a requestOffer is out; if no offer comes in time, offer ourselves. */
  requestTimer?: ReturnType<typeof setTimeout>;
}

/** If the offerer has not answered a requestOffer with an offer within this time (a peer that does not know it), offer ourselves. */
const REQUEST_FALLBACK_MS = 5000;

const KINDS: readonly MediaKind[] = ['audio', 'video'];
const iceUfrag = (sdp: string | undefined) => (sdp ? /a=ice-ufrag:(\S+)/.exec(sdp)?.[1] ?? '' : '');

/** One RTCPeerConnection per remote participant; the newer participant offers, the other asks it to (requestOffer). */
export class MeshEngine implements MediaEngine {
  private peers = new Map<string, Peer>();
  private localTracks: LocalTrackEntry[] = [];
  private closed = false;

  constructor(
    private readonly localSid: string,
    private readonly config: RTCConfiguration,
    private readonly host: EngineHost,
  ) {}

  /** initiator = we are the newer participant: we make the pair's offers. */
  addPeer(sid: string, initiator: boolean): void {
    this.ensurePeer(sid, initiator);
  }

  private ensurePeer(sid: string, offerer: boolean): Peer {
    const existing = this.peers.get(sid);
    if (existing) return existing;
    const pc = new RTCPeerConnection(this.config);
    const peer: Peer = {
      sid,
      pc,
      offerer,
      polite: this.localSid < sid,
      makingOffer: false,
      ignoreOffer: false,
      isSettingRemoteAnswerPending: false,
      senders: new Map(),
      pendingCandidates: [],
    };
    this.peers.set(sid, peer);
    pc.onicecandidate = ({ candidate }) => {
      if (this.closed || this.peers.get(sid) !== peer) return;
      this.host.send({ type: 'candidate', to: sid, candidate: candidate ? candidateInit(candidate) : null });
    };
    pc.onnegotiationneeded = () => void (peer.offerer ? this.offer(peer) : this.requestOffer(peer));
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

  private live(peer: Peer): boolean {
    return !this.closed && this.peers.get(peer.sid) === peer && peer.pc.signalingState !== 'closed';
  }

  /** Offer now, if stable; otherwise Chromium fires negotiationneeded again when the exchange under way ends. */
  private async offer(peer: Peer): Promise<void> {
    const pc = peer.pc;
    if (!this.live(peer) || pc.signalingState !== 'stable' || peer.makingOffer) return;
    try {
      peer.makingOffer = true;
      await pc.setLocalDescription();
      const desc = pc.localDescription;
      if (desc && desc.type === 'offer') this.host.send({ type: 'offer', to: peer.sid, sdp: desc.sdp });
    } catch (err) {
      this.host.log('mesh: negotiation failed', peer.sid, err);
    } finally {
      peer.makingOffer = false;
    }
  }

  /** Answering side: ask the offerer for an offer with m-sections for our new tracks (and an ICE restart if one is pending). */
  private async requestOffer(peer: Peer): Promise<void> {
    const pc = peer.pc;
    if (!this.live(peer) || pc.signalingState !== 'stable') return;
    const kinds = pc
      .getTransceivers()
      .filter((t) => t.mid === null && t.sender.track !== null && (t.direction === 'sendrecv' || t.direction === 'sendonly'))
      .map((t) => t.sender.track!.kind as MediaKind);
    let restart = false;
    if (pc.localDescription) {
      // a probe offer (not applied) carries new ICE credentials only if restartIce() is pending
      const probe = await pc.createOffer().catch(() => null);
      restart = probe !== null && iceUfrag(probe.sdp) !== iceUfrag(pc.localDescription.sdp);
    }
    if (!this.live(peer)) return;
    this.host.send({ type: 'requestOffer', to: peer.sid, ...(kinds.length ? { kinds } : {}), ...(restart ? { restart } : {}) });
    clearTimeout(peer.requestTimer);
    peer.requestTimer = setTimeout(() => {
      peer.requestTimer = undefined;
      this.host.log('mesh: no offer after requestOffer; offering', peer.sid);
      void this.offer(peer);
    }, REQUEST_FALLBACK_MS);
  }

  /** Offering side: the other side asked for an offer. */
  private onOfferRequested(peer: Peer, kinds: readonly MediaKind[], restart: boolean): void {
    const pc = peer.pc;
    // Not stable: our offer (or theirs) is under way; once it is answered the other side asks again if it still needs to.
    if (!this.live(peer) || pc.signalingState !== 'stable') return;
    for (const kind of KINDS) {
      const wanted = kinds.filter((k) => k === kind).length;
      // transceivers not negotiated yet that can receive: the other side's new tracks will take those m-sections
      let free = pc.getTransceivers().filter((t) => t.mid === null && t.receiver.track.kind === kind && (t.direction === 'sendrecv' || t.direction === 'recvonly')).length;
      for (; free < wanted; free++) pc.addTransceiver(kind, { direction: 'recvonly' });
    }
    if (restart) pc.restartIce();
    void this.offer(peer);
  }

  removePeer(sid: string): void {
    const peer = this.peers.get(sid);
    if (!peer) return;
    this.peers.delete(sid);
    clearTimeout(peer.requestTimer);
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
    if (msg.type === 'requestOffer') {
      this.onOfferRequested(peer, msg.kinds ?? [], msg.restart === true);
      return;
    }
    if (msg.type === 'offer') {
      clearTimeout(peer.requestTimer);
      peer.requestTimer = undefined;
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
