import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// `vite build` -> dist/: the app, loaded by Tauri. The Chromium suite (tests/browser) drives this
// same build, its IPC reaching the real commands through slipway-ipc-bridge.
export default defineConfig({
  base: "./",
  plugins: [react()],
  clearScreen: false,
  server: { host: "127.0.0.1", port: 47321, strictPort: true },
  preview: { host: "127.0.0.1", port: 47322, strictPort: true },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/testing/setup.ts"],
    restoreMocks: true,
  },
});
