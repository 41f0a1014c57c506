//! The shipped desktop build carries no IPC bridge: the binary built without the `ipc-bridge`
//! feature (what `scripts/test.sh` builds and the e2e runs) holds neither the bridge's code nor
//! Tauri's mock runtime. The same needles are found in the bridge binary when the feature is on,
//! so the check looks for strings that are really there when the bridge is linked in.

/// Strings only the bridge (or Tauri's test module it needs) puts into a binary: its token
/// header, its log line, its module path, and Tauri's mock runtime and test invoke key.
const NEEDLES: &[&str] = &[
    "x-slipway-bridge-token",
    "IPC bridge listening",
    "slipway_desktop::bridge",
    "MockRuntime",
    "__invoke-key__",
];

fn found(bin: &str) -> Vec<&'static str> {
    let bytes = std::fs::read(bin).unwrap_or_else(|e| panic!("cannot read {bin}: {e}"));
    NEEDLES
        .iter()
        .copied()
        .filter(|n| bytes.windows(n.len()).any(|w| w == n.as_bytes()))
        .collect()
}

#[cfg(not(feature = "ipc-bridge"))]
#[test]
fn the_desktop_binary_has_no_ipc_bridge_and_no_mock_runtime() {
    let bin = env!("CARGO_BIN_EXE_slipway-desktop");
    assert_eq!(found(bin), Vec::<&str>::new(), "{bin} holds parts of the test-only IPC bridge");
}

#[cfg(feature = "ipc-bridge")]
#[test]
fn the_bridge_binary_holds_every_needle_the_shipped_check_looks_for() {
    let bin = env!("CARGO_BIN_EXE_slipway-ipc-bridge");
    assert_eq!(found(bin), NEEDLES, "{bin}");
}
