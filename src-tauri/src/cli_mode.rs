//! The desktop binary as a kubeconfig exec credential plugin: `slipway-desktop eks-token
//! --cluster NAME [--region R] [--data-dir DIR]` prints an ExecCredential with an EKS token
//! signed in-process by the data folder's AWS connection, and exits without opening a window.
//! The kubeconfig context Slipway writes for an EKS cluster runs the binary that wrote it, so
//! the desktop app needs no `slipway` or `aws` on PATH.

use slipway_app::{Options, Slipway};
use std::path::PathBuf;

/// The subcommands the desktop binary answers without a window.
pub fn wanted() -> bool {
    std::env::args().nth(1).as_deref() == Some("eks-token")
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| args.iter().find_map(|a| a.strip_prefix(&format!("{name}=")).map(str::to_string)))
}

/// Runs the subcommand; the process exit code.
pub fn run() -> i32 {
    let args: Vec<String> = std::env::args().skip(2).collect();
    let Some(cluster) = arg(&args, "--cluster") else {
        eprintln!("error: eks-token needs --cluster NAME\n  next: run it as the kubeconfig's exec plugin writes it: eks-token --cluster NAME --region REGION");
        return 2;
    };
    let region = arg(&args, "--region");
    let data_dir = arg(&args, "--data-dir").map(PathBuf::from);
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return 1;
        }
    };
    let result = rt.block_on(async {
        let app = Slipway::open(Options { data_dir, ..Default::default() }).await?;
        app.eks_token(&cluster, region.as_deref()).await
    });
    match result {
        Ok(json) => {
            println!("{json}");
            0
        }
        Err(e) => {
            eprintln!("error: {}\n  why: {}\n  next: {}", e.what, e.why, e.fix);
            1
        }
    }
}
