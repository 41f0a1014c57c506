// Test-only entry (mock.html, built into dist-mock/ by `vite build --mode mock`): the real app
// with the Rust side replaced by MockBackend through @tauri-apps/api/mocks.
//   ?delay=<ms>        how long each check takes (default 350)
//   ?scenario=fresh    a machine with nothing set up
//   ?runstep=<ms>      time of one simulated step of a pipeline run (default 500: a run takes about 7 s)
//   ?rollout=<ms>      time of one step of a simulated rollout (default 250: a redeploy takes about 3 s)
//   ?logstep=<ms>      how often a followed deploy log gets a new request line (default 1000)
import { mockIPC } from "@tauri-apps/api/mocks";

import { boot } from "../boot";
import { MockBackend } from "./mockBackend";

const params = new URLSearchParams(window.location.search);
const backend = new MockBackend({
  delayMs: Number(params.get("delay") ?? 350),
  scenario: params.get("scenario") === "fresh" ? "fresh" : "default",
  runStepMs: params.has("runstep") ? Number(params.get("runstep")) : undefined,
  rolloutStepMs: params.has("rollout") ? Number(params.get("rollout")) : undefined,
  logStepMs: params.has("logstep") ? Number(params.get("logstep")) : undefined,
});
mockIPC(backend.handle);
(window as unknown as { __slipwayMock: MockBackend }).__slipwayMock = backend;

boot();
