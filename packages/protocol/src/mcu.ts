/**
 * MCU rooms (PROTOCOL.md §9): the server sends each participant the room's mix as the tracks of a
 * virtual participant. These ids are the contract between the server (packages/sfu) and the SDK.
 */

/** The virtual participant's sid and identity; also the stream id (msid) of the mixed tracks. */
export const MCU_PARTICIPANT = 'mcu';
/** The composed video track: the same for everyone in the room. */
export const MCU_VIDEO_TRACK_SID = 'mcu-video';
/** A participant's own audio mix (everyone but itself). */
export const mcuAudioTrackSid = (participantSid: string): string => `mcu-audio-${participantSid}`;
