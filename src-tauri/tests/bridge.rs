//! The test-only IPC bridge (`slipway-ipc-bridge`, feature `ipc-bridge`) as the UI's page tests
//! use it: loopback only, every request without the run's token refused before anything runs,
//! the real commands answered in Tauri's IPC format (a `UserError` as an error answer, an unknown
//! command named), and channel messages streamed to the page that passed the channel, and only
//! to it. The browser side (ui/tests/browser) drives the pages through it.
#![cfg(feature = "ipc-bridge")]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Bridge {
    child: Child,
    url: String,
    token: String,
    _data: tempfile::TempDir,
}

impl Bridge {
    fn start() -> Self {
        let data = slipway_testkit::data_dir();
        let mut child = Command::new(env!("CARGO_BIN_EXE_slipway-ipc-bridge"))
            .args(["--data-dir", data.path().to_str().unwrap(), "--stdin-lifeline"])
            .env("SLIPWAY_SANDBOX_VENV", slipway_testkit::env("SLIPWAY_MOTO_VENV"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let ready: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
        Bridge {
            child,
            url: ready["url"].as_str().unwrap().to_string(),
            token: ready["token"].as_str().unwrap().to_string(),
            _data: data,
        }
    }

    fn ipc(&self, cmd: &str, page: &str, args: serde_json::Value) -> reqwest::RequestBuilder {
        reqwest::Client::new()
            .post(format!("{}/ipc/{cmd}", self.url))
            .header("x-slipway-bridge-token", &self.token)
            .header("x-slipway-bridge-client", page)
            .header("Tauri-Callback", "1")
            .header("Tauri-Error", "2")
            .header("Content-Type", "application/json")
            .body(args.to_string())
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        // The end of its stdin ends it the normal way (it stops the sandbox it started).
        drop(self.child.stdin.take());
        for _ in 0..200 {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn settings(region: &str) -> serde_json::Value {
    serde_json::json!({"settings": {"defaultRegion": region, "sandboxAutoStart": true, "sandboxPort": null}})
}

#[tokio::test]
async fn a_request_without_the_token_is_refused_and_changes_nothing() {
    let b = Bridge::start();
    assert!(b.url.starts_with("http://127.0.0.1:"), "{}", b.url);
    let save = || {
        reqwest::Client::new()
            .post(format!("{}/ipc/save_settings", b.url))
            .header("x-slipway-bridge-client", "p1")
            .header("Tauri-Callback", "1")
            .header("Tauri-Error", "2")
            .header("Content-Type", "application/json")
            .body(settings("eu-west-3").to_string())
    };
    let r = save().send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("Tauri-Response").is_none());
    let r = save()
        .header("x-slipway-bridge-token", "0".repeat(b.token.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = save()
        .header("x-slipway-bridge-token", &b.token[..b.token.len() - 1])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = reqwest::Client::new()
        .get(format!("{}/channels", b.url))
        .header("x-slipway-bridge-client", "p1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Nothing was saved.
    let r = b.ipc("get_settings", "p1", serde_json::json!({})).send().await.unwrap();
    assert_eq!(r.headers()["Tauri-Response"], "ok");
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["defaultRegion"], "us-east-1");
}

#[tokio::test]
async fn commands_answer_in_tauris_format_and_channels_stream_to_their_page_only() {
    let b = Bridge::start();
    // A refusal is the command's UserError, as an error answer.
    let r = b.ipc("save_settings", "p1", settings("moon-1")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["Tauri-Response"], "error");
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["what"], "Settings not saved");
    assert_eq!(e["why"], "'moon-1' is not an AWS region name");
    // An unknown command is named.
    let r = b.ipc("no_such_command", "p1", serde_json::json!({})).send().await.unwrap();
    assert_eq!(r.headers()["Tauri-Response"], "error");
    assert_eq!(r.json::<serde_json::Value>().await.unwrap(), "Command no_such_command not found");
    // Bad arguments are refused by the command's own deserialization.
    let r = b.ipc("save_settings", "p1", serde_json::json!({"settings": 5})).send().await.unwrap();
    assert_eq!(r.headers()["Tauri-Response"], "error");

    // Two pages subscribe to events; a change reaches each through its own channel id.
    let mut streams = vec![];
    for (page, channel) in [("p1", 77), ("p2", 78)] {
        let r = reqwest::Client::new()
            .get(format!("{}/channels", b.url))
            .header("x-slipway-bridge-token", &b.token)
            .header("x-slipway-bridge-client", page)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let r2 = b
            .ipc("subscribe_events", page, serde_json::json!({"onEvents": format!("__CHANNEL__:{channel}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r2.headers()["Tauri-Response"], "ok");
        streams.push((r, channel));
    }
    let r = b.ipc("save_settings", "p1", settings("eu-west-1")).send().await.unwrap();
    assert_eq!(r.headers()["Tauri-Response"], "ok");
    for (mut stream, channel) in streams {
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.chunk())
            .await
            .expect("a channel message within 10 s")
            .unwrap()
            .unwrap();
        let text = String::from_utf8(chunk.to_vec()).unwrap();
        let line: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(line["id"], channel, "{text}");
        assert_eq!(line["index"], 0);
        assert!(
            line["message"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["event"]["type"] == "settingsChanged"),
            "{text}"
        );
        assert!(!text.contains(&format!("\"id\":{}", 155 - channel)), "only its own channel: {text}");
    }
    // A second stream for the same page is refused.
    let r = reqwest::Client::new()
        .get(format!("{}/channels", b.url))
        .header("x-slipway-bridge-token", &b.token)
        .header("x-slipway-bridge-client", "p1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
}
