import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RoomError, type Participant } from '../src/index.js';
import { setup } from './harness.js';

const ROOMS = ['r0', 'r1', 'r2'];
const IDENTITIES = ['a', 'b', 'c', 'd', 'e'];

type Op =
  | { op: 'join'; room: number; identity: number; autoCreate: boolean; publish: boolean }
  | { op: 'leave'; who: number }
  | { op: 'disconnect'; who: number }
  | { op: 'resume'; who: number; goodToken: boolean }
  | { op: 'touch'; who: number }
  | { op: 'tick'; advance: number }
  | { op: 'publish'; who: number; kind: 'audio' | 'video' | 'data' }
  | { op: 'unpublish'; who: number }
  | { op: 'remove'; room: number; identity: number }
  | { op: 'close'; room: number };

const who = fc.nat(40);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('join' as const), room: fc.nat(2), identity: fc.nat(4), autoCreate: fc.boolean(), publish: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('leave' as const), who }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('disconnect' as const), who }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('resume' as const), who, goodToken: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('touch' as const), who }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('tick' as const), advance: fc.oneof(fc.nat(2000), fc.nat(40000)) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('publish' as const), who, kind: fc.constantFrom('audio' as const, 'video' as const, 'data' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unpublish' as const), who }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), room: fc.nat(2), identity: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('close' as const), room: fc.nat(2) }) },
);

test('random operation sequences: only RoomErrors, indexes match live participants, rooms never overfull', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 3, maxLength: 3 }), fc.array(opArb, { maxLength: 120 }), (maxes, ops) => {
      const { m, rec } = setup({ pingTimeoutMs: 20000, reconnectGraceMs: 15000, maxRooms: 3 });
      let now = 0;
      ROOMS.forEach((name, i) => m.createRoom({ name, maxParticipants: maxes[i]!, emptyTimeoutMs: 10000 }, now));
      const seen: Participant[] = []; // every participant ever created, live or not
      const live = new Set<string>(); // maintained from events only
      let cid = 0;
      const pick = (i: number): Participant | undefined => seen[i % Math.max(seen.length, 1)];

      for (const o of ops) {
        try {
          switch (o.op) {
            case 'join': {
              const r = m.join(ROOMS[o.room]!, IDENTITIES[o.identity]!, { autoCreate: o.autoCreate }, now);
              seen.push(r.participant);
              if (o.publish) m.publishTrack(r.participant.sid, { cid: `c${cid++}`, kind: 'audio' }, now);
              break;
            }
            case 'leave': { const p = pick(o.who); if (p) m.leave(p.sid, 'left', now); break; }
            case 'disconnect': { const p = pick(o.who); if (p) m.disconnected(p.sid, now); break; }
            case 'resume': { const p = pick(o.who); if (p) m.resume(p.sid, o.goodToken ? p.sessionToken : 'bad', now); break; }
            case 'touch': { const p = pick(o.who); if (p) m.touch(p.sid, now); break; }
            case 'tick': now += o.advance; m.tick(now); break;
            case 'publish': { const p = pick(o.who); if (p) m.publishTrack(p.sid, { cid: `c${cid++}`, kind: o.kind }, now); break; }
            case 'unpublish': { const p = pick(o.who); if (p) m.unpublishTrack(p.sid, p.tracks[0]?.sid ?? 'TR_none'); break; }
            case 'remove': m.remove(ROOMS[o.room]!, IDENTITIES[o.identity]!, now); break;
            case 'close': m.closeRoom(ROOMS[o.room]!, 'admin', now); break;
          }
        } catch (e) {
          if (!(e instanceof RoomError)) throw e;
        }
        for (const ev of rec.take()) {
          if (ev.type === 'joined') { assert.ok(!live.has(ev.sid)); live.add(ev.sid); }
          if (ev.type === 'left') { assert.ok(live.delete(ev.sid), 'left only once, after joining'); }
        }
        for (const room of m.listRooms()) {
          assert.ok(room.numParticipants <= room.maxParticipants, `${room.name} overfull`);
        }
      }

      const stats = m.stats();
      assert.equal(stats.participants, live.size);
      assert.equal(stats.rooms, m.listRooms().length);
      assert.ok(stats.rooms <= 3);
      const inRooms = m.listRooms().flatMap((r) => r.participants.map((p) => p.sid));
      assert.deepEqual(new Set(inRooms), live);
      assert.equal(inRooms.length, live.size);
      for (const p of seen) {
        assert.equal(m.getParticipant(p.sid) === p, live.has(p.sid));
        assert.equal(p.state === 'disconnected', !live.has(p.sid));
        assert.ok(p.tracks.length <= 16);
      }
      // Closing everything leaves nothing behind.
      for (const r of m.listRooms()) m.closeRoom(r.name, 'end', now);
      assert.deepEqual(m.stats(), { rooms: 0, participants: 0 });
    }),
    { numRuns: 300 },
  );
});
