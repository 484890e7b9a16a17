// The server's handle on a room's media process: the process runs the engine for the room's
// participants, and when it dies (a codec or the process itself crashing) the server is not
// affected: the process is started again with the same participants and keyframes are asked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MixerProcess, DEFAULT_ENGINE_OPTIONS } from '../src/index.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T> | T, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (ok(last)) return last;
    } catch {
      // not ready yet
    }
    await sleep(50);
  }
  throw new Error(`${what}: not reached; last ${JSON.stringify(last)}`);
}

test('a killed media process is started again with the room, and publishers are asked for keyframes', { timeout: 60_000 }, async () => {
  const audio: string[] = [];
  const keyframes: string[] = [];
  const mp = new MixerProcess({ ...DEFAULT_ENGINE_OPTIONS, width: 320, height: 180, fps: 10 }, {
    audio: (sid) => audio.push(sid),
    video: () => undefined,
    requestKeyframe: (sid) => keyframes.push(sid),
  });
  try {
    mp.participantJoined('PA_a', 'Ada');
    mp.participantJoined('PA_b', 'Bob');
    // each participant gets its mix (silence here) every 20 ms from the engine
    await until('mixes flow', () => audio.length, (n) => n > 20);
    const first = mp.pid!;
    process.kill(first, 'SIGKILL');
    await until('restarted', () => mp.restarts, (n) => n === 1);
    const stats = await until('the new process serves the room', () => mp.stats(), (s) => s.participants === 2);
    assert.equal(stats.participants, 2);
    assert.notEqual(mp.pid, first);
    assert.deepEqual([...new Set(keyframes)].sort(), ['PA_a', 'PA_b']);
    const before = audio.length;
    await until('mixes flow again', () => audio.length - before, (n) => n > 20);
    assert.equal(mp.failed, false);
  } finally {
    mp.close();
  }
});
