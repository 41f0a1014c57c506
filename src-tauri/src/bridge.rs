//! The loopback IPC bridge, for tests only (feature `ipc-bridge`, binary `slipway-ipc-bridge`;
//! the shipped desktop build never contains it, which `tests/shipped.rs` checks).
//!
//! It builds the app exactly as the desktop window does ([`crate::builder`]: the real
//! `Arc<Slipway>` on its own data folder, the same state, the same `commands::handler()`), but on
//! Tauri's mock runtime with one mock webview, and serves Tauri's own IPC wire format over HTTP on
//! 127.0.0.1, so the UI running in a browser reaches the real commands:
//!
//! - `POST /ipc/<command>`: what Tauri's custom `ipc://` protocol receives from a webview (the
//!   body as JSON or raw bytes by `Content-Type`, the `Tauri-Callback` / `Tauri-Error` ids), handed
//!   to `Webview::on_message` like the protocol handler does; the answer comes back the same way
//!   (`Tauri-Response: ok|error`, JSON or raw bytes).
//! - `GET /channels`: one long response per browser page (`x-slipway-bridge-client`), one JSON
//!   line per `tauri::ipc::Channel` message sent to that page's channels,
//!   `{"id": <channel id>, "index": n, "message": ...}`, which the page hands to
//!   `__TAURI_INTERNALS__.runCallback` as Tauri's own delivery does. Messages are taken from the
//!   runtime with `Builder::channel_interceptor`, so every channel of every command works.
//!
//! Every request must carry `x-slipway-bridge-token` with the token the bridge printed when it
//! started (random per run); anything else is refused with 401 before its body is read. The
//! browser side is `ui/tests/browser/ipcBridge.ts`.

use crate::{builder, start_background};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use slipway_app::{Options, Slipway};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tauri::ipc::{CallbackFn, InvokeBody, InvokeResponse, InvokeResponseBody};
use tauri::test::MockRuntime;
use tauri::Manager;
use tauri::webview::InvokeRequest;
use tokio::sync::mpsc;

/// The header that carries the per-run token.
pub const TOKEN_HEADER: &str = "x-slipway-bridge-token";
/// The header that names the browser page (its channels stream to it).
pub const CLIENT_HEADER: &str = "x-slipway-bridge-client";
/// The largest request body accepted (a board import is the largest input).
const MAX_BODY: usize = 32 * 1024 * 1024;
/// How a channel argument looks in a command's JSON arguments (Tauri's `IPC_PAYLOAD_PREFIX`).
const CHANNEL_PREFIX: &str = "__CHANNEL__:";

pub struct Config {
    /// The data folder of the `Slipway` the bridge serves (a fresh one per test suite).
    pub data_dir: PathBuf,
    /// The loopback port; 0 picks a free one.
    pub port: u16,
    /// Ends when standard input closes (the test harness that started it has gone).
    pub stdin_lifeline: bool,
}

/// What the bridge prints on its first line of standard output once it listens.
#[derive(serde::Serialize)]
struct Ready<'a> {
    url: String,
    token: &'a str,
    pid: u32,
    data_dir: String,
}

/// Runs the bridge until SIGTERM, SIGINT or (with `stdin_lifeline`) the end of standard input;
/// then stops the sandbox of its data folder.
pub fn run(config: Config) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    // The commands spawn on Tauri's runtime: make it this one.
    tauri::async_runtime::set(rt.handle().clone());
    let token = random_token()?;

    let app = rt
        .block_on(Slipway::open(Options {
            data_dir: Some(config.data_dir.clone()),
            ..Default::default()
        }))
        .map_err(|e| format!("{}: {} ({})", e.what, e.why, e.fix))?;
    let data_dir = app.data_dir().display().to_string();

    let clients = Arc::new(Clients::default());
    let routed = clients.clone();
    let tauri_app = builder(tauri::test::mock_builder(), app)
        .channel_interceptor(move |_webview, callback, index, body| {
            routed.deliver(callback.0, index, body);
            true
        })
        .build(tauri::test::mock_context(tauri::test::noop_assets()))
        .map_err(|e| format!("cannot build the app on the mock runtime: {e}"))?;
    let webview = tauri::WebviewWindowBuilder::new(&tauri_app, "main", Default::default())
        .build()
        .map_err(|e| format!("cannot create the mock webview: {e}"))?;
    let webview: tauri::Webview<MockRuntime> = webview.as_ref().clone();
    let handle = tauri_app.handle().clone();

    let result = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port))
            .await
            .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", config.port))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("no local address: {e}"))?;
        // No window of its own paints here: the start-up work does not wait for a page.
        let first = handle.state::<crate::FirstPage>();
        first.painted();
        first.usable();
        start_background(&handle);
        let ready = Ready {
            url: format!("http://{addr}"),
            token: &token,
            pid: std::process::id(),
            data_dir,
        };
        println!(
            "{}",
            serde_json::to_string(&ready).map_err(|e| e.to_string())?
        );
        use std::io::Write;
        let _ = std::io::stdout().flush();
        tracing::info!(url = %ready.url, "IPC bridge listening");

        let server = Server {
            token: Arc::new(token.clone()),
            webview,
            clients,
        };
        let stop = shutdown(config.stdin_lifeline);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                accepted = listener.accept() => {
                    let Ok((stream, peer)) = accepted else { continue };
                    let server = server.clone();
                    tokio::spawn(async move { server.connection(stream, peer).await });
                }
            }
        }
        tracing::info!("IPC bridge stopping");
        // Unlike the desktop app (whose sandbox outlives it, to be adopted by the next
        // Slipway), the bridge is a test harness on its own data folder: its sandbox goes.
        let app = handle.state::<Arc<Slipway>>().inner().clone();
        if let Err(e) = app.sandbox_stop().await {
            tracing::warn!(what = %e.what, why = %e.why, "stopping the bridge's sandbox");
        }
        Ok(())
    });
    drop(tauri_app);
    rt.shutdown_timeout(std::time::Duration::from_secs(2));
    result
}

/// Resolves on SIGTERM, SIGINT, or the end of standard input when asked to watch it.
async fn shutdown(stdin_lifeline: bool) {
    use tokio::signal::unix::{signal, SignalKind};
    let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    if stdin_lifeline {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
            let _ = tx.send(());
        });
    }
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        let _ = rx.recv().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        _ = rx.recv() => {}
    }
}

/// 32 random bytes from the OS, as hex.
fn random_token() -> Result<String, String> {
    use std::io::Read;
    let mut b = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|e| format!("cannot read /dev/urandom for the token: {e}"))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// The browser pages that talk to the bridge, and which page each channel belongs to.
#[derive(Default)]
struct Clients(Mutex<ClientsInner>);

#[derive(Default)]
struct ClientsInner {
    pages: HashMap<String, Page>,
    /// Channel id (the page's callback id) -> page id.
    channels: HashMap<u32, String>,
}

struct Page {
    tx: mpsc::UnboundedSender<Bytes>,
    /// Taken by the page's `GET /channels`; messages queue here until it comes.
    rx: Option<mpsc::UnboundedReceiver<Bytes>>,
}

impl Clients {
    fn lock(&self) -> std::sync::MutexGuard<'_, ClientsInner> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn page<'a>(inner: &'a mut ClientsInner, id: &str) -> &'a mut Page {
        inner.pages.entry(id.to_string()).or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            Page { tx, rx: Some(rx) }
        })
    }

    /// Notes the channels a command's arguments pass, as the page's.
    fn register(&self, page: &str, args: &serde_json::Value) {
        let mut ids = Vec::new();
        channel_ids(args, &mut ids);
        let mut inner = self.lock();
        Self::page(&mut inner, page);
        for id in ids {
            inner.channels.insert(id, page.to_string());
        }
    }

    /// The stream of a page's channel messages (once per page).
    fn stream(&self, page: &str) -> Option<mpsc::UnboundedReceiver<Bytes>> {
        Self::page(&mut self.lock(), page).rx.take()
    }

    /// Sends one channel message to the page the channel belongs to. A page that has gone
    /// (its stream closed) is forgotten with its channels; its messages are dropped.
    fn deliver(&self, channel: u32, index: usize, body: &InvokeResponseBody) {
        let line = match body {
            InvokeResponseBody::Json(json) => {
                format!("{{\"id\":{channel},\"index\":{index},\"message\":{json}}}\n")
            }
            InvokeResponseBody::Raw(bytes) => format!(
                "{{\"id\":{channel},\"index\":{index},\"raw\":{}}}\n",
                serde_json::to_string(bytes).unwrap_or_else(|_| "[]".into())
            ),
        };
        let mut inner = self.lock();
        let Some(page) = inner.channels.get(&channel).cloned() else {
            tracing::warn!(channel, "a message for a channel no page registered");
            return;
        };
        let gone = match inner.pages.get(&page) {
            Some(p) => p.tx.send(Bytes::from(line)).is_err(),
            None => true,
        };
        if gone {
            inner.pages.remove(&page);
            inner.channels.retain(|_, p| p != &page);
        }
    }
}

/// Every `__CHANNEL__:<id>` string in a command's arguments.
fn channel_ids(v: &serde_json::Value, out: &mut Vec<u32>) {
    match v {
        serde_json::Value::String(s) => {
            if let Some(id) = s.strip_prefix(CHANNEL_PREFIX).and_then(|n| n.parse().ok()) {
                out.push(id);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| channel_ids(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| channel_ids(x, out)),
        _ => {}
    }
}

type Body = http_body_util::combinators::BoxBody<Bytes, std::convert::Infallible>;

fn text(status: StatusCode, msg: impl Into<String>) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(msg.into())).boxed());
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        "text/plain; charset=utf-8".parse().expect("a valid header"),
    );
    r
}

#[derive(Clone)]
struct Server {
    token: Arc<String>,
    webview: tauri::Webview<MockRuntime>,
    clients: Arc<Clients>,
}

impl Server {
    async fn connection(self, stream: tokio::net::TcpStream, peer: SocketAddr) {
        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
            let s = self.clone();
            async move { Ok::<_, std::convert::Infallible>(s.handle(req).await) }
        });
        if let Err(e) = hyper::server::conn::http1::Builder::new()
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
            .await
        {
            tracing::debug!(%peer, error = %e, "connection ended");
        }
    }

    fn authorized(&self, req: &Request<Incoming>) -> bool {
        let Some(given) = req.headers().get(TOKEN_HEADER) else {
            return false;
        };
        let (a, b) = (given.as_bytes(), self.token.as_bytes());
        // Constant time: every byte is compared whatever the first difference.
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    async fn handle(&self, req: Request<Incoming>) -> Response<Body> {
        if !self.authorized(&req) {
            tracing::warn!(path = %req.uri().path(), "refused a request without the bridge's token");
            return text(
                StatusCode::UNAUTHORIZED,
                format!("the {TOKEN_HEADER} header is missing or wrong"),
            );
        }
        let page = req
            .headers()
            .get(CLIENT_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|p| {
                !p.is_empty()
                    && p.len() <= 64
                    && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            .map(str::to_string);
        let Some(page) = page else {
            return text(
                StatusCode::BAD_REQUEST,
                format!("the {CLIENT_HEADER} header (the page's id) is missing or not valid"),
            );
        };
        let path = req.uri().path().to_string();
        match (req.method(), path.as_str()) {
            (&Method::GET, "/channels") => self.channels(&page),
            (&Method::POST, p) if p.starts_with("/ipc/") => {
                let cmd = percent_decode(&p["/ipc/".len()..]);
                self.invoke(&page, cmd, req).await
            }
            _ => text(StatusCode::NOT_FOUND, "no such route"),
        }
    }

    fn channels(&self, page: &str) -> Response<Body> {
        let Some(rx) = self.clients.stream(page) else {
            return text(
                StatusCode::CONFLICT,
                "this page's channels are already streaming",
            );
        };
        let stream = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv()
                .await
                .map(|line| (Ok::<_, std::convert::Infallible>(Frame::data(line)), rx))
        });
        let mut r = Response::new(BodyExt::boxed(StreamBody::new(stream)));
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            "application/x-ndjson".parse().expect("a valid header"),
        );
        r.headers_mut().insert(
            hyper::header::CACHE_CONTROL,
            "no-store".parse().expect("a valid header"),
        );
        r
    }

    /// One command, as Tauri's `ipc://` protocol handler parses and answers it.
    async fn invoke(&self, page: &str, cmd: String, req: Request<Incoming>) -> Response<Body> {
        let (parts, body) = req.into_parts();
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let callback = header("Tauri-Callback").and_then(|v| v.parse().ok());
        let error = header("Tauri-Error").and_then(|v| v.parse().ok());
        let (Some(callback), Some(error)) = (callback, error) else {
            return text(
                StatusCode::BAD_REQUEST,
                "the Tauri-Callback and Tauri-Error headers must be numbers",
            );
        };
        let json = match header("Content-Type").map(|c| c.split(';').next().unwrap_or("").trim()) {
            Some("application/json") => true,
            Some("application/octet-stream") | None => false,
            Some(other) => {
                return text(
                    StatusCode::BAD_REQUEST,
                    format!("content type {other} is not implemented"),
                )
            }
        };
        let bytes = match Limited::new(body, MAX_BODY).collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => return text(StatusCode::PAYLOAD_TOO_LARGE, format!("body: {e}")),
        };
        let body = if !json {
            InvokeBody::Raw(bytes.to_vec())
        } else if bytes.is_empty() {
            InvokeBody::Json(serde_json::Value::Object(Default::default()))
        } else {
            match serde_json::from_slice::<serde_json::Value>(&bytes) {
                Ok(v) => {
                    self.clients.register(page, &v);
                    InvokeBody::Json(v)
                }
                Err(e) => return text(StatusCode::BAD_REQUEST, format!("body: {e}")),
            }
        };
        let request = InvokeRequest {
            cmd,
            callback: CallbackFn(callback),
            error: CallbackFn(error),
            url: "tauri://localhost".parse().expect("a valid URL"),
            body,
            headers: parts.headers,
            invoke_key: tauri::test::INVOKE_KEY.to_string(),
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        let webview = self.webview.clone();
        // A synchronous command runs inside on_message: keep it off the async workers.
        tokio::task::spawn_blocking(move || {
            webview.on_message(
                request,
                Box::new(move |_webview, _cmd, response, _callback, _error| {
                    let _ = tx.send(response);
                }),
            );
        });
        let Ok(response) = rx.await else {
            return text(StatusCode::INTERNAL_SERVER_ERROR, "the command gave no answer");
        };
        let (ok, mime, bytes) = match response {
            InvokeResponse::Ok(InvokeResponseBody::Json(v)) => {
                (true, "application/json", Bytes::from(v))
            }
            InvokeResponse::Ok(InvokeResponseBody::Raw(v)) => {
                (true, "application/octet-stream", Bytes::from(v))
            }
            InvokeResponse::Err(e) => (
                false,
                "application/json",
                Bytes::from(serde_json::to_vec(&e.0).unwrap_or_default()),
            ),
        };
        let mut r = Response::new(Full::new(bytes).boxed());
        let h = r.headers_mut();
        h.insert(
            "Tauri-Response",
            (if ok { "ok" } else { "error" })
                .parse()
                .expect("a valid header"),
        );
        h.insert(
            hyper::header::CONTENT_TYPE,
            mime.parse().expect("a valid header"),
        );
        r
    }
}

/// Decodes `%XX` escapes (a command name travels URI-encoded, as in Tauri's protocol).
fn percent_decode(s: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_ids_are_found_at_any_depth() {
        let mut ids = Vec::new();
        channel_ids(
            &serde_json::json!({"run": "r-1", "onChunk": "__CHANNEL__:42", "x": [{"y": "__CHANNEL__:7"}], "z": "__CHANNEL__:nope"}),
            &mut ids,
        );
        ids.sort();
        assert_eq!(ids, [7, 42]);
    }

    #[test]
    fn percent_decoding_of_command_names() {
        assert_eq!(percent_decode("get_settings"), "get_settings");
        assert_eq!(
            percent_decode("plugin%3A__TAURI_CHANNEL__%7Cfetch"),
            "plugin:__TAURI_CHANNEL__|fetch"
        );
        assert_eq!(percent_decode("50%"), "50%");
        assert_eq!(percent_decode("a%zzb"), "a%zzb");
    }
}
