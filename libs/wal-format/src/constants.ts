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
/** Version 2: the file is one gzip member; the header rides in its FEXTRA field. */
export const CHECKPOINT_FORMAT_VERSION = 2;
/** Version 1 (read only): the header comes first, then a gzip stream; not a gzip file. */
export const CHECKPOINT_LEGACY_FORMAT_VERSION = 1;
/** The T4DM checkpoint header block, in either layout. */
export const CHECKPOINT_HEADER_BYTES = 104;
/** FEXTRA subfield id carrying the header: "T4" (RFC 1952 §2.3.1.1). */
export const CHECKPOINT_GZIP_SUBFIELD_ID = Buffer.from("T4", "latin1");
/** gzip member header (10) + XLEN (2) + subfield id and length (4) + the header block. */
export const CHECKPOINT_GZIP_PREFIX_BYTES = 10 + 2 + 4 + CHECKPOINT_HEADER_BYTES;
export const STATE_HASH_BYTES = 28;
