// Reports the window's first painted frame, then starts the app.
//
// The frame is index.html's prerendered one (src/prerender.tsx), painted before any script of the
// app has run. It is measured as benches/hello-tauri measures its own: the rAF callback runs
// before the next paint, the timeout once that paint is done. scripts/bench.sh compares the two.
//
// The app's module (`data-app`, written by vite build) is imported once that frame is painted, so
// WebKit does not parse 250 kB of JavaScript while it paints it; or after 500 ms, since a window
// that is not shown gets no frames. A classic script: it runs before anything the app loads.
(() => {
  const app = document.currentScript && document.currentScript.dataset.app;
  let started = false;
  const start = () => {
    if (started || !app) return; // no data-app: the dev server loads the app itself
    started = true;
    import(app).catch((e) => console.error("the app could not load", e));
  };
  requestAnimationFrame(() => {
    setTimeout(() => {
      const ipc = window.__TAURI_INTERNALS__;
      if (ipc) ipc.invoke("first_paint").catch((e) => console.warn("first_paint failed", e));
      start();
    }, 0);
  });
  setTimeout(start, 500);
})();
