// The memory service's entry point (`node services/memory/dist/main.js`, a path deploy files and
// ServiceProcess rely on): start-up, wiring and shutdown live in app/.
import "./app/main.js";
