// The admin contract is two generated files; this re-exports them as one namespace.
export * from "./gen/t4dm/admin/v1/admin_service.js";
export * from "./gen/t4dm/admin/v1/export.js";
