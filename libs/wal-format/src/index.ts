export * from "./constants.js";
export { WalFormatError } from "./errors.js";
export { encodeSegmentHeader, decodeSegmentHeader, segmentFileName, parseSegmentFileName } from "./segment-header.js";
export type { SegmentHeader } from "./segment-header.js";
export { encodeRecord, encodeRecordHeader, frameChecksum } from "./record-frame.js";
export type { WalRecordData } from "./record-frame.js";
export { scanRecords, findValidFrameAfter } from "./record-scanner.js";
export type { ScannedRecord, ScanResult, ScanStop, ScanOptions } from "./record-scanner.js";
export {
  encodeCheckpointHeader,
  decodeCheckpointHeader,
  checkpointFileName,
  parseCheckpointFileName,
} from "./checkpoint-header.js";
export type { CheckpointFileHeader, DecodedCheckpointHeader } from "./checkpoint-header.js";
export { encodeCheckpointPrefix, encodeGzipTrailer, parseCheckpointFile } from "./checkpoint-file.js";
export type { CheckpointFileView, CheckpointLayout } from "./checkpoint-file.js";
export { ChunkedScanner } from "./chunked-scanner.js";
