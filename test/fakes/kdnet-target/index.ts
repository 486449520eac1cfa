export * from "../../../src/peers/kdnet-target/index.js";
