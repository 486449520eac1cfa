// Worker entry: load tsx in this thread, then the TypeScript peers (a worker does not inherit the loader).
import { register } from "tsx/esm/api";

register();
await import("./_fleet-peers.ts");
