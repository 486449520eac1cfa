/** The types of serial-relay.mjs's exports (test/helpers/serial-relay.ts, the benchmark's relay, uses the coalescer). */
export declare const MAX: number;
export declare function coalescer(send: (data: Buffer) => void): { push(msg: Buffer): void; drop(): void };
