// Included by src-tauri/build.rs and benches/hello-tauri/build.rs (a build script has no crate
// to share code through).

/// Release builds on Linux (glibc 2.36 or later: Debian 12, Ubuntu 23.04, Fedora 37) pack their
/// relative relocations (DT_RELR): 65,000 of them took 1.6 MB of the binary as `.rela.dyn`, and
/// packed they take a few kB, which the loader also applies faster at start. Identical functions
/// are folded where nothing takes their address (`--icf=safe`). benches/hello-tauri links the
/// same way, so `scripts/bench.sh desktop` compares like with like.
fn release_link_args() {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    if var("PROFILE") == "release"
        && var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu"
    {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
        println!("cargo:rustc-link-arg-bins=-Wl,--icf=safe");
    }
}
