import { defineConfig } from "vitest/config";

// The Chromium suite: drives the mock build (dist-mock/) in Debian's /usr/bin/chromium through
// playwright-core. `npm run test:browser` builds dist-mock first.
export default defineConfig({
  test: {
    environment: "node",
    include: ["tests/browser/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
