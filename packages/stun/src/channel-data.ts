// ChannelData framing (RFC 8656 §12.4): a 2-byte channel number, a 2-byte
// length, then the application data; over TCP/TLS the frame is padded to a multiple of 4.
import { StunError } from './errors.js';

export const MIN_CHANNEL = 0x4000;
/**
 * RFC 8656 narrowed channels to 0x4000-0x4FFF, but RFC 5766 allowed up to 0x7FFF and
 * clients still use it (coturn's tools do), so the codec accepts first bytes 0x40-0x7F.
 */
export const MAX_CHANNEL = 0x7fff;
export const CHANNEL_DATA_HEADER_LENGTH = 4;

/** First two bits 01 (channels 0x4000-0x7FFF) and buf.length >= 4 + declared length. */
export function isChannelData(buf: Uint8Array): boolean {
  if (buf.length < 4) return false;
  const first = buf[0];
  if ((first & 0xc0) !== 0x40) return false;
  return buf.length >= 4 + ((buf[2] << 8) | buf[3]);
}

/** For stream framing: total frame length (4 + len, rounded up to 4 if padded), -1 if fewer than 4 bytes. */
export function channelDataLength(buf: Uint8Array, padded: boolean): number {
  if (buf.length < 4) return -1;
  const n = 4 + ((buf[2] << 8) | buf[3]);
  return padded ? (n + 3) & ~3 : n;
}

/** Writes a ChannelData header into out[0..4) for the given channel and payload length; returns 4. No allocation. */
export function writeChannelDataHeader(out: Uint8Array, channel: number, length: number): number {
  if (!(channel >= MIN_CHANNEL && channel <= MAX_CHANNEL && (channel | 0) === channel)) {
    throw new StunError('STUN_ERR_INVALID_ARGUMENT', `channel number ${channel} is outside 0x4000-0x7FFF`);
  }
  if (!(length >= 0 && length <= 0xffff && (length | 0) === length)) {
    throw new StunError('STUN_ERR_INVALID_ARGUMENT', `ChannelData length ${length} is outside 0-65535`);
  }
  if (out.length < 4) throw new StunError('STUN_ERR_INVALID_ARGUMENT', 'output shorter than 4 bytes');
  out[0] = channel >>> 8;
  out[1] = channel & 0xff;
  out[2] = length >>> 8;
  out[3] = length & 0xff;
  return 4;
}

/** The channel number of a ChannelData frame (no checks beyond length). -1 if fewer than 2 bytes. */
export function channelDataChannel(buf: Uint8Array): number {
  return buf.length < 2 ? -1 : (buf[0] << 8) | buf[1];
}

/**
 * The channel and a view of the payload of a ChannelData frame at the start of buf (trailing
 * padding or bytes are ignored), or null if buf does not start with a whole ChannelData frame.
 */
export function decodeChannelData(buf: Uint8Array): { channel: number; data: Uint8Array } | null {
  if (!isChannelData(buf)) return null;
  const len = (buf[2] << 8) | buf[3];
  return { channel: (buf[0] << 8) | buf[1], data: new Uint8Array(buf.buffer, buf.byteOffset + 4, len) };
}
