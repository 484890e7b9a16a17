// The entry of an MCU room's media process (forked by MixerProcess): IPC messages in, RoomEngine
// calls; engine output batched back once per event-loop turn. When the server goes away (the
// IPC channel disconnects) a recording in progress is finished and the process exits.
import type { FromEngine, ToEngine } from './ipc.js';
import { RoomEngine } from './room-engine.js';

let engine: RoomEngine | null = null;
let audioSids: string[] = [];
let audio: Uint8Array[] = [];
let video: Uint8Array[] = [];
let flushQueued = false;

function send(m: FromEngine): void {
  if (process.connected) process.send!(m);
}

function queueFlush(): void {
  if (flushQueued) return;
  flushQueued = true;
  setImmediate(() => {
    flushQueued = false;
    if (audio.length === 0 && video.length === 0) return;
    send({ t: 'out', audioSids, audio, video });
    audioSids = [];
    audio = [];
    video = [];
  });
}

function reply(id: number, run: () => unknown): void {
  Promise.resolve()
    .then(run)
    .then(
      (value) => send({ t: 'reply', id, ok: true, value }),
      (err: Error & { code?: string }) => send({ t: 'reply', id, ok: false, code: err.code ?? 'SB_ERR_MCU', message: err.message }),
    );
}

function need(): RoomEngine {
  if (engine === null) throw Object.assign(new Error('the engine has no options yet'), { code: 'SB_ERR_MCU' });
  return engine;
}

process.on('message', (m: ToEngine) => {
  switch (m.t) {
    case 'init':
      engine ??= new RoomEngine(m.opts, {
        audio: (sid, pkt) => {
          audioSids.push(sid);
          audio.push(pkt);
          queueFlush();
        },
        video: (pkt) => {
          video.push(pkt);
          queueFlush();
        },
        requestKeyframe: (sid) => send({ t: 'pli', sid }),
        log: (level, msg, obj) => send({ t: 'log', level, msg, obj }),
      });
      break;
    case 'join':
      need().join(m.sid, m.name);
      break;
    case 'leave':
      need().leave(m.sid);
      break;
    case 'media': {
      const e = need();
      for (let i = 0; i < m.packets.length; i++) e.media(m.sids[i], m.kinds[i], m.packets[i]);
      break;
    }
    case 'videoEnded':
      need().videoEnded(m.sid);
      break;
    case 'keyframe':
      need().requestKeyframe();
      break;
    case 'bitrate':
      need().setReceiverBitrate(m.bps);
      break;
    case 'speakers':
      need().setSpeakers(m.sids);
      break;
    case 'gain':
      need().setGain(m.sid, m.gain);
      break;
    case 'mute':
      need().setMuted(m.sid, m.muted);
      break;
    case 'record':
      reply(m.id, () => need().startRecording(m.path));
      break;
    case 'stopRecord':
      reply(m.id, () => need().stopRecording());
      break;
    case 'stats':
      reply(m.id, () => need().stats());
      break;
  }
});

process.on('disconnect', () => {
  const e = engine;
  engine = null;
  void (e?.close() ?? Promise.resolve()).finally(() => process.exit(0));
});
