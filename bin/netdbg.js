#!/usr/bin/env node
// Thin shim: the compiled CLI lives in dist/. Build with `npm run build`.
import module from "node:module";

module.enableCompileCache?.();
const { main } = await import("../dist/cli/main.js");
process.exitCode = await main(process.argv);
