export * from "../../../src/peers/windows-target/bcd.js";
