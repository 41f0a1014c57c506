import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";
import { runnerImport, type Plugin } from "vite";

/** Puts the first page's frame (src/prerender.tsx) into index.html's #root at build time, so the
 * window's first frame is the app's navigation and heading, painted before any script has run.
 * The app's module is then started by public/first-paint.js once that frame is painted (its
 * `data-app`); a modulepreload link has it fetched meanwhile. */
function prerenderFrame(): Plugin {
  const ROOT = '<div id="root"></div>';
  const REPORTER = '<script src="./first-paint.js"></script>';
  const ENTRY = /\s*<script type="module" crossorigin src="(\.\/assets\/index-[^"]+\.js)"><\/script>/;
  return {
    name: "slipway:prerender-frame",
    apply: "build",
    transformIndexHtml: {
      order: "post",
      async handler(html) {
        if (!html.includes(ROOT)) throw new Error(`index.html has no empty ${ROOT} to prerender the frame into`);
        if (!html.includes(REPORTER)) throw new Error(`index.html has no ${REPORTER}`);
        const entry = ENTRY.exec(html);
        if (!entry) throw new Error("the built index.html has no module script for the app's entry");
        const { module } = await runnerImport<{ frameMarkup: () => string }>("./src/prerender.tsx", { configFile: false, logLevel: "silent" });
        return html
          .replace(entry[0], "")
          .replace(ROOT, `<div id="root">${module.frameMarkup()}</div>`)
          .replace(REPORTER, `<script src="./first-paint.js" data-app="${entry[1]}"></script>`)
          .replace("</head>", `  <link rel="modulepreload" crossorigin href="${entry[1]}">\n  </head>`);
      },
    },
  };
}

// `vite build` -> dist/: the app, loaded by Tauri. The Chromium suite (tests/browser) drives this
// same build, its IPC reaching the real commands through slipway-ipc-bridge.
export default defineConfig({
  base: "./",
  plugins: [react(), prerenderFrame()],
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
