// Runs the CLI from source (node --import tsx test/helpers/cli-entry.ts <args>), for tests.
import { main } from "../../src/cli/main.js";

process.exitCode = await main(process.argv);
