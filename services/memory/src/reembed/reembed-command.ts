/** How operators run the re-embed command, as start-up refusals name it (README, services/memory/README). */
export const REEMBED_COMMAND = "node services/memory/dist/reembed.js";
