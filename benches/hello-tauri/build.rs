// Linked as Slipway's release build is: the same file as src-tauri/build.rs.
include!("../../src-tauri/release_link_args.rs");

fn main() {
    release_link_args();
    tauri_build::build()
}
