import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// Two builds share this config:
//   `vite build`             -> dist/       the real app (index.html only), loaded by Tauri.
//   `vite build --mode mock` -> dist-mock/  mock.html: the same app with the Rust side faked by
//                                           mockIPC (src/testing/), for the Chromium suite. Never
//                                           part of dist/.
export default defineConfig(({ mode }) => {
  const mock = mode === "mock";
  return {
    base: "./",
    plugins: [react()],
    clearScreen: false,
    server: { host: "127.0.0.1", port: 47321, strictPort: true },
    preview: { host: "127.0.0.1", port: 47322, strictPort: true },
    build: {
      outDir: mock ? "dist-mock" : "dist",
      emptyOutDir: true,
      target: "es2022",
      sourcemap: mock,
      rolldownOptions: { input: mock ? "mock.html" : "index.html" },
    },
    test: {
      environment: "jsdom",
      include: ["src/**/*.test.{ts,tsx}"],
      setupFiles: ["src/testing/setup.ts"],
      restoreMocks: true,
      // Above the 5 s that findBy*/waitFor wait (setup.ts), so a failing wait reports itself.
      testTimeout: 15_000,
    },
  };
});
