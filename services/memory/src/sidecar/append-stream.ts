import type { CallOptions, ClientDuplexStream } from "@grpc/grpc-js";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { persistenceV1 } from "@t4dm/proto";

/** A writer whose buffer grew past this is dropped, so one huge re-send does not pin memory. */
const KEEP_WRITER_BYTES = 1 << 20;

/**
 * Opens PersistenceService/Append like `client.append()`, with a cheaper
 * encoder for the busiest message there is. The generated serializer starts
 * every message in a fresh 128-byte buffer that doubles as it fills, then
 * copies the result twice (slice, Buffer.from): about ten allocations per
 * 64 KiB message, most of them off the V8 heap. At tens of MB/s that churn is
 * what makes V8 run back-to-back mark-compacts. This one keeps one writer for
 * the stream's life (its buffer stays grown) and hands grpc-js the encoded
 * bytes as they are: one allocation per message.
 */
export function openAppendStream(
  client: persistenceV1.PersistenceServiceClient,
  options?: Partial<CallOptions>,
): ClientDuplexStream<persistenceV1.AppendRequest, persistenceV1.AppendResponse> {
  let writer = new BinaryWriter();
  const serialize = (request: persistenceV1.AppendRequest): Buffer => {
    const bytes = persistenceV1.AppendRequest.encode(request, writer).finish();
    if (bytes.byteLength > KEEP_WRITER_BYTES) writer = new BinaryWriter();
    // finish() returns a copy the writer no longer touches: safe to wrap without copying.
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
  const method = persistenceV1.PersistenceServiceService.append;
  return client.makeBidiStreamRequest(method.path, serialize, method.responseDeserialize, options);
}
