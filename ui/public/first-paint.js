// Reports the window's first painted frame: index.html's prerendered frame (src/prerender.tsx),
// painted before the app's module script runs. A classic script, so it runs first. Measured as
// benches/hello-tauri measures its own: the rAF callback runs before the next paint, the timeout
// once that paint is done. scripts/bench.sh compares the two.
requestAnimationFrame(() => {
  setTimeout(() => {
    const ipc = window.__TAURI_INTERNALS__;
    if (ipc) ipc.invoke("first_paint").catch((e) => console.warn("first_paint failed", e));
  }, 0);
});
