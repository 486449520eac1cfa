#!/usr/bin/env node
// Thin shim: the compiled CLI lives in dist/. Build with `npm run build`.
import module from "node:module";

module.enableCompileCache?.();
const { main, endQuietlyOnClosedPipe } = await import("../dist/cli/main.js");
endQuietlyOnClosedPipe();
process.exitCode = await main(process.argv);
