import { defineConfig } from "vitest/config";

/** The lab-backed integration suite (`npm run test:lab`): real kernels under QEMU. */
export default defineConfig({
  test: {
    include: ["test/integration/lab/**/*.test.ts"],
    reporters: ["default", "./test/summary-reporter.ts"],
    testTimeout: 600_000,
    hookTimeout: 3_000_000,
    fileParallelism: false,
    pool: "forks",
  },
});
