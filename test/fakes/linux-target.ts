export * from "../../src/peers/linux-target.js";
