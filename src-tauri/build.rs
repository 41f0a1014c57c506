// src-tauri/tauri.conf.json links to the root tauri.conf.json; its paths are relative to src-tauri.
//
// The app manifest declares every command registered in src/commands/mod.rs (read from its
// `generate_handler!` list, so the two cannot drift apart): Tauri then refuses any app command
// that capabilities/default.json does not grant to the calling window with `allow-<command>`.
fn main() {
    release_link_args();
    println!("cargo:rerun-if-changed=src/commands/mod.rs");
    println!("cargo:rerun-if-changed=capabilities");
    let text = std::fs::read_to_string("src/commands/mod.rs").expect("src/commands/mod.rs");
    let start = text
        .find("generate_handler![")
        .expect("a generate_handler! list in commands/mod.rs");
    let list = &text[start..];
    let list = &list[..list.find(']').expect("the end of generate_handler!")];
    let commands: Vec<&'static str> = list["generate_handler![".len()..]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            &*Box::leak(
                s.rsplit("::")
                    .next()
                    .unwrap_or(s)
                    .to_string()
                    .into_boxed_str(),
            )
        })
        .collect();
    assert!(
        commands.len() > 10,
        "commands/mod.rs lists only {commands:?}"
    );
    let commands: &'static [&'static str] = Box::leak(commands.into_boxed_slice());
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(commands)),
    )
    .expect("tauri-build failed");
}

// `release_link_args`: one file, so benches/hello-tauri links exactly as Slipway does.
include!("release_link_args.rs");
