// Reports the first painted frame the way Slipway's UI does (ui/src/api.ts reportFirstPaint):
// the rAF callback runs before the next paint; the timeout after it runs once that paint is done.
requestAnimationFrame(() => {
  setTimeout(() => {
    window.__TAURI_INTERNALS__.invoke("first_paint");
  }, 0);
});
