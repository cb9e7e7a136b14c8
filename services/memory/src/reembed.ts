// The re-embed command's entry point (`node services/memory/dist/reembed.js`, a path operators,
// the Makefile and tools/reembed-local.mjs rely on); the command itself lives in reembed/.
import "./reembed/reembed-main.js";
