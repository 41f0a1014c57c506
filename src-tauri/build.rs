// src-tauri/tauri.conf.json links to the root tauri.conf.json; its paths are relative to src-tauri.
fn main() {
    tauri_build::build();
}
