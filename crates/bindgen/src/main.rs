//! `cargo run -p slipway-bindgen` writes ui/src/commands.generated.ts from the Tauri commands;
//! `-- --check` only says whether the file is current (exit 1 when stale). `--root DIR` reads
//! and writes another copy of the tree (the rename test uses it).

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut check = false;
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut root = here.canonicalize().unwrap_or(here);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--check" => check = true,
            "--root" => match args.next() {
                Some(r) => root = PathBuf::from(r),
                None => {
                    eprintln!("error: --root needs a directory");
                    return ExitCode::from(2);
                }
            },
            other => {
                eprintln!("error: unknown argument {other}\nusage: slipway-bindgen [--check] [--root DIR]");
                return ExitCode::from(2);
            }
        }
    }
    let text = match slipway_bindgen::generate(&root) {
        Ok(t) => t,
        Err(e) => {
            eprint!("error: cannot generate {}\n{e}", slipway_bindgen::OUTPUT);
            return ExitCode::FAILURE;
        }
    };
    let out = root.join(slipway_bindgen::OUTPUT);
    let current = std::fs::read_to_string(&out).ok();
    if current.as_deref() == Some(text.as_str()) {
        return ExitCode::SUCCESS;
    }
    if check {
        eprintln!(
            "{} is stale: run `cargo run -p slipway-bindgen` and commit it",
            slipway_bindgen::OUTPUT
        );
        return ExitCode::FAILURE;
    }
    if let Err(e) = std::fs::write(&out, text) {
        eprintln!("error: cannot write {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    eprintln!("wrote {}", out.display());
    ExitCode::SUCCESS
}
