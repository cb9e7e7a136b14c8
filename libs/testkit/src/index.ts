export { ServiceProcess, REPO_ROOT } from "./service-process.js";
export type { LogLine, ServiceName } from "./service-process.js";
export { startPod, makeDataDir } from "./cluster.js";
export type { Pod } from "./cluster.js";
export { connectClients, connectSidecar, call, callError, checkHealth } from "./grpc-clients.js";
export { grpcurl, grpcurlPath } from "./tools.js";
export { AppendClient } from "./append-client.js";
export { mulberry32 } from "./random.js";
export * as feedbackTask from "./feedback-task.js";
