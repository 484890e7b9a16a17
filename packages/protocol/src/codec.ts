import type { z } from 'zod';
import { ErrorCodes, type ErrorCode } from './errors.js';
import { MAX_MESSAGE_BYTES, MAX_REASON_LENGTH, MAX_SERVER_MESSAGE_BYTES, PROTOCOL_VERSION, utf8ByteLength } from './limits.js';
import {
  ClientMessageSchemas,
  ServerMessageSchemas,
  type ClientMessage,
  type ServerMessage,
} from './schemas.js';

export type ParseFailure = { ok: false; code: ErrorCode; message: string; id?: number };
export type ParseResult<M> = { ok: true; msg: M } | ParseFailure;

/** A message as handed to {@link encodeMessage}: `v` may be omitted (it is always set). */
export type Encodable<M> = M extends unknown ? Omit<M, 'v'> & { v?: typeof PROTOCOL_VERSION } : never;

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

let decoder: TextDecoder | undefined;

function fail(code: ErrorCode, message: string, id?: number): ParseFailure {
  const m = message.length > MAX_REASON_LENGTH ? message.slice(0, MAX_REASON_LENGTH - 1) + '…' : message;
  return id === undefined ? { ok: false, code, message: m } : { ok: false, code, message: m, id };
}

function formatPath(type: string, path: readonly PropertyKey[]): string {
  let out = type;
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += `.${String(seg)}`;
  }
  return out;
}

function parseWith<M>(
  input: unknown,
  maxBytes: number,
  schemas: Record<string, z.ZodType>,
): ParseResult<M> {
  try {
    // 1. Size (before anything else), 2. decode.
    let text: string;
    if (typeof input === 'string') {
      if (input.length > maxBytes || utf8ByteLength(input) > maxBytes) {
        return fail(ErrorCodes.TOO_LARGE, `message exceeds ${maxBytes} bytes`);
      }
      text = input;
    } else if (input instanceof Uint8Array) {
      if (input.byteLength > maxBytes) return fail(ErrorCodes.TOO_LARGE, `message exceeds ${maxBytes} bytes`);
      try {
        decoder ??= new TextDecoder('utf-8', { fatal: true });
        text = decoder.decode(input);
      } catch {
        return fail(ErrorCodes.MALFORMED, 'message is not valid UTF-8');
      }
    } else {
      return fail(ErrorCodes.MALFORMED, 'message must be a string or bytes');
    }

    // 3. JSON.
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return fail(ErrorCodes.MALFORMED, 'message is not valid JSON');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return fail(ErrorCodes.MALFORMED, 'message must be a JSON object');
    }
    const obj = value as Record<string, unknown>;

    // The request id, if readable, so errors can carry replyTo.
    const rawId = hasOwn(obj, 'id') ? obj.id : undefined;
    const id = typeof rawId === 'number' && Number.isSafeInteger(rawId) && rawId >= 0 ? rawId : undefined;

    // 4. Version.
    const v = hasOwn(obj, 'v') ? obj.v : undefined;
    if (v !== PROTOCOL_VERSION) {
      return fail(
        ErrorCodes.VERSION,
        v === undefined ? `missing protocol version v (expected ${PROTOCOL_VERSION})` : `unsupported protocol version (expected ${PROTOCOL_VERSION})`,
        id,
      );
    }

    // 5. Type.
    const type = hasOwn(obj, 'type') ? obj.type : undefined;
    if (typeof type !== 'string') return fail(ErrorCodes.UNKNOWN_TYPE, 'missing message type', id);
    if (!hasOwn(schemas, type)) {
      const shown = type.length > 64 ? `${type.slice(0, 64)}…` : type;
      return fail(ErrorCodes.UNKNOWN_TYPE, `unknown message type ${JSON.stringify(shown)}`, id);
    }

    // 6. Schema.
    const result = schemas[type]!.safeParse(obj);
    if (!result.success) {
      const issues = result.error.issues;
      const first = issues[0];
      const where = first ? formatPath(type, first.path) : type;
      const more = issues.length > 1 ? ` (+${issues.length - 1} more)` : '';
      return fail(ErrorCodes.INVALID_MESSAGE, `${where}: ${first?.message ?? 'invalid'}${more}`, id);
    }
    return { ok: true, msg: result.data as M };
  } catch {
    // Defensive: nothing above should throw, but never let a frame crash the caller.
    return fail(ErrorCodes.MALFORMED, 'message could not be parsed');
  }
}

/**
 * Parse and validate one client → server frame. Never throws.
 * Order of checks: size (TOO_LARGE), UTF-8/JSON/object (MALFORMED), `v` (VERSION),
 * `type` (UNKNOWN_TYPE), schema (INVALID_MESSAGE, message `type.path: reason`).
 * On failure, `id` is set when the frame carried a readable request id.
 */
export function parseClientMessage(text: string | Uint8Array): ParseResult<ClientMessage> {
  return parseWith<ClientMessage>(text, MAX_MESSAGE_BYTES, ClientMessageSchemas);
}

/** Parse and validate one server → client frame (SDK side). Never throws. */
export function parseServerMessage(text: string | Uint8Array): ParseResult<ServerMessage> {
  return parseWith<ServerMessage>(text, MAX_SERVER_MESSAGE_BYTES, ServerMessageSchemas);
}

/** Serialize a message as a JSON text frame, setting `v` to {@link PROTOCOL_VERSION}. Does not validate. */
export function encodeMessage(msg: ClientMessage | ServerMessage | Encodable<ClientMessage | ServerMessage>): string {
  return JSON.stringify({ ...msg, v: PROTOCOL_VERSION });
}
