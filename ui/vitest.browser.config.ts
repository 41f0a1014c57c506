import { defineConfig } from "vitest/config";

// The Chromium suite: the production build (dist/) in Debian's /usr/bin/chromium through
// playwright-core, its IPC reaching the real commands through slipway-ipc-bridge (one per test
// file, on a fresh data folder). The files run one after the other: each starts its own bridge
// and browser, and the backends share the machine's dockerd and cluster.
export default defineConfig({
  test: {
    environment: "node",
    include: ["tests/browser/**/*.test.ts"],
    // Real work happens behind the pages (builds, rollouts, applies): a test may take minutes.
    testTimeout: 240_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
