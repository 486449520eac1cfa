export * from "../../../src/peers/windows-target/model.js";
