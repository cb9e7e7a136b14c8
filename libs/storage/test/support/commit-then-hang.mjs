// Upserts one batch of promoted memories into the embedded episodic store
// (built dist/) with a WAL sync that never completes: the batch is committed
// in SQLite, but its upsert never resolves, so the memory service would never
// log STORE_SYNCED for it. Prints "committed" and waits to be SIGKILLed.
import { SqliteEpisodicStore } from "../../dist/index.js";
import { batch } from "./promoted-batch.mjs";

const [dir, dims, count] = process.argv.slice(2);
const episodic = new SqliteEpisodicStore({ dir, dimensions: Number(dims), syncFile: () => new Promise(() => {}) });
await episodic.init();
void episodic.upsert(batch(Number(dims), Number(count)));
// The commit and the index insert are sent before upsert awaits anything.
process.stdout.write("committed\n");
setInterval(() => {}, 1000);
