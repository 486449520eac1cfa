/**
 * Loaded into a `netdbg demo` under test (NODE_OPTIONS=--import): Ctrl-C lands exactly as a setup starts writing
 * its journal, and the removal of the demo's state directory takes a second longer than the rm itself (as on a
 * slow disk), so a step still running while the state goes shows: it writes the directory back.
 * node's builtin modules' named exports follow their objects after syncBuiltinESMExports, so netdbg's own
 * `import { mkdir, rm } from "node:fs/promises"` sees these.
 */
import fsp from "node:fs/promises";
import { syncBuiltinESMExports } from "node:module";

const { mkdir, rm } = fsp;
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let signalled = false;

fsp.mkdir = async (path, ...rest) => {
  if (!signalled && /netdbg-demo-[^/]+\/state\/journals$/.test(String(path))) {
    signalled = true;
    process.kill(process.pid, "SIGINT");
    await pause(100); // the handler runs first
  }
  return mkdir(path, ...rest);
};

fsp.rm = async (path, ...rest) => {
  const out = await rm(path, ...rest);
  if (/netdbg-demo-[^/]+$/.test(String(path))) await pause(1000);
  return out;
};

syncBuiltinESMExports();
