//! Tauri's runtime authority with the app's real context (tauri.conf.json, the capabilities
//! and the app manifest from build.rs) and command handler, on Tauri's mock runtime: a
//! command the capability grants works from the main window; an unlisted command, another
//! window, or a remote origin is refused before the command runs.

use serde_json::{json, Value};
use slipway_app::{Options, Slipway};
use slipway_core::secrets::MemorySecretStore;
use std::sync::Arc;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{Manager, WebviewWindow, WebviewWindowBuilder};

/// The app as the desktop builds it (`crate::builder`), on the mock runtime, with its service.
pub(crate) fn app_with(data: &std::path::Path) -> (tauri::App<MockRuntime>, Arc<Slipway>) {
    let slipway = tauri::async_runtime::block_on(Slipway::open(Options {
        data_dir: Some(data.to_path_buf()),
        secrets: Arc::new(MemorySecretStore::default()),
        ..Default::default()
    }))
    .unwrap();
    let app = crate::builder(mock_builder(), slipway.clone())
        .build(tauri::generate_context!())
        .expect("the app builds on the mock runtime");
    (app, slipway)
}

fn app(data: &std::path::Path) -> tauri::App<MockRuntime> {
    app_with(data).0
}

pub(crate) fn window(app: &tauri::App<MockRuntime>, label: &str) -> WebviewWindow<MockRuntime> {
    app.get_webview_window(label)
        .unwrap_or_else(|| WebviewWindowBuilder::new(app, label, Default::default()).build().unwrap())
}

pub(crate) fn invoke(w: &WebviewWindow<MockRuntime>, url: &str, cmd: &str, body: Value) -> Result<Value, Value> {
    get_ipc_response(
        w,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: url.parse().unwrap(),
            body: InvokeBody::Json(body),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().unwrap())
}

/// The app's own pages: `tauri://localhost` (on Windows and Android `http://tauri.localhost`).
pub(crate) const LOCAL: &str = if cfg!(windows) { "http://tauri.localhost" } else { "tauri://localhost" };

#[test]
fn the_runtime_authority_refuses_what_the_capability_does_not_grant() {
    let data = tempfile::tempdir().unwrap();
    let app = app(data.path());
    let main = window(&app, "main");
    // Granted: the settings, from the main window.
    let s = invoke(&main, LOCAL, "get_settings", json!({})).expect("get_settings is granted to the main window");
    assert_eq!(s["defaultRegion"], "us-east-1");
    // Registered in the handler but not granted (the UI never calls it): refused.
    let e = invoke(&main, LOCAL, "connections", json!({})).expect_err("connections is not in the capability");
    assert!(e.to_string().contains("not allowed"), "{e}");
    // Another window gets nothing, not even what the main window may call.
    let other = window(&app, "intruder");
    let e = invoke(&other, LOCAL, "get_settings", json!({})).expect_err("another window");
    assert!(e.to_string().contains("not allowed"), "{e}");
    let e = invoke(&other, LOCAL, "save_settings", json!({"settings": {"defaultRegion": "eu-west-1", "sandboxAutoStart": false, "sandboxPort": null}})).expect_err("another window");
    assert!(e.to_string().contains("not allowed"), "{e}");
    // A remote page loaded in the main window cannot call app commands either.
    let e = invoke(&main, "https://evil.example", "get_settings", json!({})).expect_err("a remote origin");
    assert!(e.to_string().contains("not allowed"), "{e}");
    // Nothing refused ran: the settings are as they were.
    let s = invoke(&main, LOCAL, "get_settings", json!({})).unwrap();
    assert_eq!(s["defaultRegion"], "us-east-1");
    println!("refused by the runtime authority: 4 (an unlisted command, two calls from another window, a remote origin)");
}

#[test]
fn the_capability_grants_exactly_the_commands_the_ui_calls() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let cap: Value = serde_json::from_str(&std::fs::read_to_string(root.join("capabilities/default.json")).unwrap()).unwrap();
    assert_eq!(cap["windows"], json!(["main"]));
    let granted: std::collections::BTreeSet<String> = cap["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str()?.strip_prefix("allow-").map(|c| c.replace('-', "_")))
        .collect();
    // What the UI calls: a generated command function (`api.connectAws(...)`, or passed on as
    // `api.sandboxStart`) in a page or component, or a command api.ts names itself (the
    // channel helpers).
    let api = std::fs::read_to_string(root.join("../ui/src/api.ts")).unwrap();
    let mut ui_code = String::new();
    let mut stack = vec![root.join("../ui/src")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                if name != "bindings" {
                    stack.push(p);
                }
            } else if (name.ends_with(".ts") || name.ends_with(".tsx")) && !name.contains(".test.") && name != "commands.generated.ts" {
                ui_code.push_str(&std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    // And the classic scripts index.html loads before the app (ui/public: first-paint.js), which
    // call `invoke("<command>")` themselves.
    let public: String = std::fs::read_dir(root.join("../ui/public"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "js"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let camel = |c: &str| {
        let mut out = String::new();
        let mut up = false;
        for ch in c.chars() {
            if ch == '_' {
                up = true;
            } else if up {
                out.extend(ch.to_uppercase());
                up = false;
            } else {
                out.push(ch);
            }
        }
        out
    };
    let mods = std::fs::read_to_string(root.join("src/commands/mod.rs")).unwrap();
    let registered: std::collections::BTreeSet<String> = mods
        .split("generate_handler![")
        .nth(1)
        .unwrap()
        .split(']')
        .next()
        .unwrap()
        .split(',')
        .filter_map(|s| s.trim().rsplit("::").next().filter(|n| !n.is_empty()).map(str::to_string))
        .collect();
    let called: std::collections::BTreeSet<String> = registered
        .iter()
        .filter(|c| {
            let f = format!("api.{}", camel(c));
            api.contains(&format!("\"{c}\""))
                || public.contains(&format!("invoke(\"{c}\")"))
                || ui_code.match_indices(&f).any(|(i, _)| !ui_code[i + f.len()..].starts_with(|ch: char| ch.is_ascii_alphanumeric() || ch == '_'))
        })
        .cloned()
        .collect();
    assert_eq!(granted, called, "capabilities/default.json must grant exactly the commands the UI calls (through api.ts)");
    assert!(registered.len() > granted.len(), "some registered command is left out (connections)");
}

#[test]
fn the_csp_allows_only_what_the_ui_needs() {
    let conf: Value = serde_json::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tauri.conf.json")).unwrap()).unwrap();
    let csp = &conf["app"]["security"]["csp"];
    assert!(csp.is_object(), "a CSP is set: {csp}");
    assert_eq!(csp["default-src"], "'self'");
    assert_eq!(csp["script-src"], "'self'", "no inline or eval'd script");
    assert_eq!(csp["object-src"], "'none'");
    assert_eq!(csp["frame-ancestors"], "'none'");
    let connect = csp["connect-src"].as_str().unwrap();
    assert!(connect.contains("ipc:") && connect.contains("http://ipc.localhost"), "Tauri's IPC: {connect}");
    for (k, v) in csp.as_object().unwrap() {
        let v = v.as_str().unwrap();
        assert!(!v.contains("http://*") && !v.contains("https:") && !v.split_whitespace().any(|w| w == "*"), "{k} opens the network: {v}");
        assert!(!v.contains("unsafe-eval"), "{k}: {v}");
    }
}
