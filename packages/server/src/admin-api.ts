// The admin REST API under /api, for tokens with the room admin grant:
//   POST   /api/rooms                                   create { name, topology, maxParticipants, emptyTimeoutMs?, metadata? }
//   GET    /api/rooms                                   list (roomAdmin or roomList)
//   GET    /api/rooms/:name                             one room and its participants
//   GET    /api/rooms/:name/stats                       server-side media stats (SFU: transports, tracks, layers; MCU: the mixer too)
//   POST   /api/rooms/:name/recording                   MCU: start recording the composed room to WebM -> 201 { path }
//   DELETE /api/rooms/:name/recording                   MCU: stop it -> { path, bytes, durationMs }
//   POST   /api/rooms/:name/participants/:identity/mix   MCU: { gain?: 0..16, muted?: boolean } in everyone's mix
//   DELETE /api/rooms/:name/participants/:identity      remove a participant
//   DELETE /api/rooms/:name                             close a room (everyone is told)
// Errors are JSON { code, message } with 400/401/403/404/409.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { RoomError, type Room, type RoomManager } from '@switchboard/rooms';
import { checkAccess, TokenError, type TokenVerifier, type VerifiedToken } from '@switchboard/tokens';

const CreateRoom = z
  .object({
    name: z.string().min(1).max(128),
    topology: z.enum(['mesh', 'sfu', 'mcu']).default('mesh'),
    maxParticipants: z.number().int().min(1).max(10_000).optional(),
    emptyTimeoutMs: z.number().int().min(1000).max(7 * 86_400_000).optional(),
    metadata: z.string().max(4096).optional(),
  })
  .strict();

/** Topologies whose media engine exists in this build. */

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function statusOf(err: unknown): { status: number; code: string; message: string } {
  if (err instanceof ApiError) return { status: err.status, code: err.code, message: err.message };
  const message = (err as Error).message;
  if (err instanceof TokenError) {
    const forbidden = err.code === 'SB_ERR_TOKEN_PERMISSION' || err.code === 'SB_ERR_TOKEN_WRONG_ROOM';
    return { status: forbidden ? 403 : 401, code: err.code, message };
  }
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && MEDIA_ERROR_STATUS[code] !== undefined) return { status: MEDIA_ERROR_STATUS[code], code, message };
  if (err instanceof RoomError) {
    const status = err.code === 'SB_ERR_ROOM_EXISTS' ? 409 : err.code === 'SB_ERR_ROOM_NOT_FOUND' || err.code === 'SB_ERR_UNKNOWN_PARTICIPANT' ? 404 : 400;
    return { status, code: err.code, message };
  }
  return { status: 500, code: 'SB_ERR_INTERNAL', message: 'internal error' };
}

export interface AdminApiOptions {
  /** Topologies that can be created (mesh, and those with a running media engine). */
  topologies?: ReadonlySet<string>;
  /** Server-side media stats of a room's participants (SFU/MCU rooms). */
  mediaStats?: (room: Room) => unknown[] | undefined;
  /** MCU rooms: the media engine's figures. */
  mixerStats?: (room: Room) => Promise<unknown>;
  /** MCU recording (absent: MCU rooms are not available). Errors carry codes. */
  recording?: {
    start(room: Room): Promise<{ path: string }>;
    stop(room: Room): Promise<{ path: string; bytes: number; durationMs: number }>;
    /** A participant's gain and mute in the others' mixes. */
    mix(room: Room, participantSid: string, settings: { gain?: number; muted?: boolean }): void;
  };
}

const MixSettings = z.object({ gain: z.number().min(0).max(16).optional(), muted: z.boolean().optional() }).strict();

/** Error codes of the media engine, as HTTP statuses. */
const MEDIA_ERROR_STATUS: Record<string, number> = {
  SB_ERR_WRONG_TOPOLOGY: 409,
  SB_ERR_MCU_NO_MEDIA: 409,
  SB_ERR_MCU_RECORDING: 409,
  SB_ERR_MCU_NOT_RECORDING: 409,
  SB_ERR_MCU_ENGINE_EXITED: 503,
};

export function registerAdminApi(app: FastifyInstance, rooms: RoomManager, verifier: TokenVerifier, opts: AdminApiOptions = {}): void {
  const topologies = opts.topologies ?? new Set(['mesh']);
  const authorize = async (req: FastifyRequest, need: { room?: string; grant: 'roomAdmin' | 'roomList' }): Promise<VerifiedToken> => {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw new ApiError(401, 'SB_ERR_TOKEN_MISSING', 'send an admin token as "Authorization: Bearer TOKEN"');
    const token = await verifier.verify(m[1]);
    if (need.grant === 'roomList' && token.grants.roomAdmin) {
      checkAccess(token, { room: need.room, grant: 'roomAdmin' });
    } else {
      checkAccess(token, { room: need.room, grant: need.grant });
    }
    return token;
  };
  const fail = (reply: FastifyReply, err: unknown) => {
    const { status, code, message } = statusOf(err);
    return reply.code(status).send({ code, message });
  };

  app.post('/api/rooms', async (req, reply) => {
    try {
      const parsed = CreateRoom.safeParse(req.body ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new ApiError(400, 'SB_ERR_INVALID_REQUEST', `${issue.path.join('.') || 'body'}: ${issue.message}`);
      }
      const body = parsed.data;
      await authorize(req, { room: body.name, grant: 'roomAdmin' });
      if (!topologies.has(body.topology)) {
        throw new ApiError(400, 'SB_ERR_TOPOLOGY_UNAVAILABLE', `topology ${body.topology} is not available on this server (${[...topologies].join(', ')} ${topologies.size === 1 ? 'is' : 'are'})`);
      }
      const opts = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) as typeof body;
      const room = rooms.createRoom(opts, Date.now());
      return reply.code(201).send({ room: room.info() });
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get('/api/rooms', async (req, reply) => {
    try {
      await authorize(req, { grant: 'roomList' });
      return reply.send({ rooms: rooms.listRooms().map((r) => r.info()) });
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get<{ Params: { name: string } }>('/api/rooms/:name', async (req, reply) => {
    try {
      await authorize(req, { room: req.params.name, grant: 'roomAdmin' });
      const room = rooms.getRoom(req.params.name);
      if (!room) throw new ApiError(404, 'SB_ERR_ROOM_NOT_FOUND', `no room ${JSON.stringify(req.params.name)}`);
      return reply.send({ room: room.info(), participants: room.participants.map((p) => p.info()) });
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get<{ Params: { name: string } }>('/api/rooms/:name/stats', async (req, reply) => {
    try {
      await authorize(req, { room: req.params.name, grant: 'roomAdmin' });
      const room = rooms.getRoom(req.params.name);
      if (!room) throw new ApiError(404, 'SB_ERR_ROOM_NOT_FOUND', `no room ${JSON.stringify(req.params.name)}`);
      const mixer = room.topology === 'mcu' ? await opts.mixerStats?.(room) : undefined;
      return reply.send({ room: room.info(), participants: opts.mediaStats?.(room) ?? [], ...(mixer !== undefined ? { mixer } : {}) });
    } catch (err) {
      return fail(reply, err);
    }
  });

  const recordingRoom = async (req: FastifyRequest<{ Params: { name: string } }>): Promise<Room> => {
    await authorize(req, { room: req.params.name, grant: 'roomAdmin' });
    const room = rooms.getRoom(req.params.name);
    if (!room) throw new ApiError(404, 'SB_ERR_ROOM_NOT_FOUND', `no room ${JSON.stringify(req.params.name)}`);
    if (opts.recording === undefined) throw new ApiError(400, 'SB_ERR_TOPOLOGY_UNAVAILABLE', 'MCU rooms (and so recording) are not available on this server');
    if (room.topology !== 'mcu') throw new ApiError(409, 'SB_ERR_WRONG_TOPOLOGY', `room ${room.name} is ${room.topology}; only mcu rooms are recorded`);
    return room;
  };

  app.post<{ Params: { name: string } }>('/api/rooms/:name/recording', async (req, reply) => {
    try {
      const room = await recordingRoom(req);
      return reply.code(201).send(await opts.recording!.start(room));
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.post<{ Params: { name: string; identity: string } }>('/api/rooms/:name/participants/:identity/mix', async (req, reply) => {
    try {
      const parsed = MixSettings.safeParse(req.body ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new ApiError(400, 'SB_ERR_INVALID_REQUEST', `${issue.path.join('.') || 'body'}: ${issue.message}`);
      }
      const room = await recordingRoom(req);
      const p = room.participants.find((x) => x.identity === req.params.identity);
      if (!p) throw new ApiError(404, 'SB_ERR_UNKNOWN_PARTICIPANT', `no participant ${JSON.stringify(req.params.identity)} in ${room.name}`);
      opts.recording!.mix(room, p.sid, parsed.data);
      return reply.send({ identity: p.identity, ...parsed.data });
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.delete<{ Params: { name: string } }>('/api/rooms/:name/recording', async (req, reply) => {
    try {
      const room = await recordingRoom(req);
      return reply.send(await opts.recording!.stop(room));
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.delete<{ Params: { name: string; identity: string } }>('/api/rooms/:name/participants/:identity', async (req, reply) => {
    try {
      await authorize(req, { room: req.params.name, grant: 'roomAdmin' });
      if (!rooms.getRoom(req.params.name)) throw new ApiError(404, 'SB_ERR_ROOM_NOT_FOUND', `no room ${JSON.stringify(req.params.name)}`);
      rooms.remove(req.params.name, req.params.identity, Date.now());
      return reply.code(204).send();
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.delete<{ Params: { name: string } }>('/api/rooms/:name', async (req, reply) => {
    try {
      await authorize(req, { room: req.params.name, grant: 'roomAdmin' });
      if (!rooms.getRoom(req.params.name)) throw new ApiError(404, 'SB_ERR_ROOM_NOT_FOUND', `no room ${JSON.stringify(req.params.name)}`);
      rooms.closeRoom(req.params.name, 'closed by an admin', Date.now());
      return reply.code(204).send();
    } catch (err) {
      return fail(reply, err);
    }
  });
}
