// The browser side of the loopback IPC bridge (src-tauri/src/bridge.rs, binary
// slipway-ipc-bridge): installed into every page before the app's own scripts
// (page.addInitScript), it defines window.__TAURI_INTERNALS__ as Tauri's own init scripts do
// (core.js: callbacks and invoke; ipc-protocol.js and process-ipc-message-fn.js: the request and
// the answer), except that a request goes to the bridge over HTTP instead of the webview's ipc://
// protocol, and channel messages come from the bridge's /channels stream (read by the harness,
// handed in through __slipwayDeliver) instead of being evaluated into the page by Tauri. So
// ui/src/api.ts, @tauri-apps/api's invoke and Channel, and every page run unchanged against the
// real commands.
//
// The function must stay self-contained (no imports, no outer variables): Playwright sends its
// source text to the page.

export type BridgeConfig = {
  /** Where the bridge is reached from the page (the test server proxies it, same origin). */
  base: string;
  /** The bridge's per-run token, sent with every request. */
  token: string;
};

export function installIpcBridge(cfg: BridgeConfig): void {
  // Only in the app's own pages (not the about:blank every new page starts as).
  if (location.origin !== new URL(cfg.base).origin) return;
  type Callback = (data: unknown) => void;
  const w = window as unknown as Record<string, unknown>;
  // This page's id: the bridge streams the messages of the channels this page passed to it.
  const page = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");
  const auth = { "x-slipway-bridge-token": cfg.token, "x-slipway-bridge-client": page };

  const callbacks = new Map<number, Callback>();
  const uid = () => crypto.getRandomValues(new Uint32Array(1))[0];
  function unregisterCallback(id: number) {
    callbacks.delete(id);
  }
  function registerCallback(callback?: Callback, once = false): number {
    const id = uid();
    callbacks.set(id, (data) => {
      if (once) unregisterCallback(id);
      return callback && callback(data);
    });
    return id;
  }
  function runCallback(id: number, data: unknown) {
    const callback = callbacks.get(id);
    if (callback) callback(data);
    else console.warn(`[TAURI] Couldn't find callback id ${id}. This might happen when the app is reloaded while Rust is running an asynchronous operation.`);
  }

  // Tauri's process-ipc-message-fn.js: raw bytes as octet-stream, anything else as JSON with
  // Maps, byte arrays and objects that serialize themselves for the IPC (a Channel) converted.
  function processIpcMessage(message: unknown): { contentType: string; data: BodyInit } {
    if (message instanceof ArrayBuffer || ArrayBuffer.isView(message) || Array.isArray(message)) {
      return { contentType: "application/octet-stream", data: message as BodyInit };
    }
    const data = JSON.stringify(message, (_k, val) => {
      const SERIALIZE_TO_IPC_FN = "__TAURI_TO_IPC_KEY__";
      if (val instanceof Map) return Object.fromEntries(val.entries());
      if (val instanceof Uint8Array) return Array.from(val);
      if (val instanceof ArrayBuffer) return Array.from(new Uint8Array(val));
      if (typeof val === "object" && val !== null && SERIALIZE_TO_IPC_FN in val) return val[SERIALIZE_TO_IPC_FN]();
      return val;
    });
    return { contentType: "application/json", data };
  }

  // Channel messages, one JSON line each, for as long as the page lives: the harness reads this
  // page's /channels stream in Node (harness.ts, pumpChannels) and hands each message in through
  // __slipwayDeliver, in order. Not a request of the page's own: Chromium aborts a page's
  // requests with ERR_NETWORK_CHANGED whenever dockerd or the cluster adds a network interface,
  // and a page whose stream broke missed every message after it.
  w.__slipwayPage = page;
  w.__slipwayDeliver = (m: { id: number; index: number; message?: unknown; raw?: number[] }) =>
    runCallback(m.id, { message: m.raw ? new Uint8Array(m.raw).buffer : m.message, index: m.index });
  (w.__slipwayChannels as (page: string) => Promise<void>)(page).catch((e: unknown) => console.error("the IPC bridge's channel stream could not start", e));

  function invoke(cmd: string, payload: unknown = {}, options?: { headers?: HeadersInit }): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const callback = registerCallback((r) => {
        resolve(r);
        unregisterCallback(error);
      }, true);
      const error = registerCallback((e) => {
        reject(e);
        unregisterCallback(callback);
      }, true);
      const { contentType, data } = processIpcMessage(payload);
      const headers = new Headers(options?.headers ?? {});
      headers.set("Content-Type", contentType);
      headers.set("Tauri-Callback", String(callback));
      headers.set("Tauri-Error", String(error));
      for (const [k, v] of Object.entries(auth)) headers.set(k, v);
      fetch(`${cfg.base}/ipc/${encodeURIComponent(cmd)}`, { method: "POST", body: data, headers })
        .then(async (response) => {
          const answer = response.headers.get("Tauri-Response");
          if (answer === null) {
            // Not an answer of the command: the bridge refused the request itself.
            return [error, `IPC bridge: ${response.status} ${await response.text()}`] as const;
          }
          const id = answer === "ok" ? callback : error;
          switch ((response.headers.get("content-type") || "").split(",")[0]) {
            case "application/json":
              return [id, await response.json()] as const;
            case "text/plain":
              return [id, await response.text()] as const;
            default:
              return [id, await response.arrayBuffer()] as const;
          }
        })
        .then(
          ([id, answer]) => runCallback(id, answer),
          (e: unknown) => runCallback(error, `IPC bridge unreachable: ${String(e)}`),
        );
    });
  }

  w.__TAURI_INTERNALS__ = {
    transformCallback: registerCallback,
    unregisterCallback,
    runCallback,
    callbacks,
    invoke,
    convertFileSrc: (filePath: string, protocol = "asset") => `${protocol}://localhost/${encodeURIComponent(filePath)}`,
    metadata: { currentWindow: { label: "main" }, currentWebview: { windowLabel: "main", label: "main" } },
  };
}
