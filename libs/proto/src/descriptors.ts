import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

/**
 * The descriptor set `buf build` made from proto/ (committed beside the
 * generated code, imports included). Server reflection serves it, so grpcurl
 * can describe every service without .proto files on the operator's machine.
 */
export function loadDescriptorSet(): Buffer {
  return readFileSync(fileURLToPath(new URL("../descriptor.binpb", import.meta.url)));
}

/**
 * The descriptor set in the shape @grpc/reflection reads: objects carrying
 * `fileDescriptorProtos`, one encoded FileDescriptorProto per .proto file.
 * (Loading the set through @grpc/proto-loader would merge files and lose the
 * imports reflection clients need, such as google/protobuf/timestamp.proto.)
 */
export function reflectionPackageDefinition(): Record<string, { fileDescriptorProtos: Buffer[] }> {
  const set = fromBinary(FileDescriptorSetSchema, loadDescriptorSet());
  return {
    "t4dm.descriptors": {
      fileDescriptorProtos: set.file.map((file) => Buffer.from(toBinary(FileDescriptorProtoSchema, file))),
    },
  };
}
