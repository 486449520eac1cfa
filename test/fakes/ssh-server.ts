export * from "../../src/peers/ssh-server.js";
