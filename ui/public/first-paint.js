// Reports the window's first painted frame, then starts the app.
//
// The frame is index.html's prerendered one (src/prerender.tsx), painted before any script of the
// app has run. It is measured as benches/hello-tauri measures its own: the rAF callback runs
// before the next paint, the timeout once that paint is done. scripts/bench.sh compares the two.
//
// The app's module (`data-app`, written by vite build; index.html's modulepreload link has it
// fetched meanwhile) is run once that frame is painted, so that running 250 kB of JavaScript
// does not hold that frame back; or after 500 ms, since a window that is not shown gets no
// frames. A classic script: it runs before anything the app loads.
//
// It also asks for the Launch page's state at once, so that the page's first render can show it
// (the page the window opens on; scripts/bench.sh measures when it is usable).
(() => {
  const app = document.currentScript && document.currentScript.dataset.app;
  const ipc = window.__TAURI_INTERNALS__;
  // The Launch page's state, asked for now, while the frame paints and the app loads: the page's
  // first render shows it (src/api.ts takeEarlyLaunchState), and then asks again, since the
  // journey may have moved in between. Only a state that came back is kept.
  if (app && ipc) {
    const early = { settled: false, state: null };
    window.__slipwayEarlyLaunchState = early;
    ipc
      .invoke("launch_state", { project: null })
      .then((state) => (early.state = state))
      .catch(() => {})
      .finally(() => (early.settled = true));
  }
  let started = false;
  const start = () => {
    if (started || !app) return; // no data-app: the dev server loads the app itself
    started = true;
    import(app).catch((e) => console.error("the app could not load", e));
  };
  requestAnimationFrame(() => {
    setTimeout(() => {
      if (ipc) ipc.invoke("first_paint").catch((e) => console.warn("first_paint failed", e));
      start();
    }, 0);
  });
  setTimeout(start, 500);
})();
