export * from "../../src/peers/rsp-stub.js";
