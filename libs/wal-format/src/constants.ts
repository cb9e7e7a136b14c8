/** Byte-format constants; see FORMAT.md. */
export const SEGMENT_MAGIC = Buffer.from("T4DMWAL\0", "latin1");
export const SEGMENT_FORMAT_VERSION = 1;
export const CHECKSUM_CRC32C = 1;
export const SEGMENT_HEADER_BYTES = 40;

export const RECORD_MAGIC = 0x7434;
export const RECORD_FORMAT_VERSION = 1;
export const RECORD_HEADER_BYTES = 28;
/** The largest payload a record may carry; a larger length is a torn or corrupt frame. */
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

export const CHECKPOINT_MAGIC = Buffer.from("T4DMCKP\0", "latin1");
export const CHECKPOINT_FORMAT_VERSION = 1;
export const CHECKPOINT_HEADER_BYTES = 104;
export const STATE_HASH_BYTES = 28;
