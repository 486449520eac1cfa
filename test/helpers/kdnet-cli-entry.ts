/** Runs the netdbg CLI from source (for tests that need a real child process with its own stdin). */
import { main } from "../../src/cli/main.js";

process.exitCode = await main(process.argv);
