export * from "../../../src/peers/windows-target/session.js";
