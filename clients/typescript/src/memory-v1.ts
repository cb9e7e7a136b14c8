// t4dm.memory.v1 is split over several .proto files; callers see one namespace.
export * from "./gen/t4dm/memory/v1/memory.js";
export * from "./gen/t4dm/memory/v1/memory_service.js";
export * from "./gen/t4dm/memory/v1/knowledge.js";
export * from "./gen/t4dm/memory/v1/knowledge_service.js";
