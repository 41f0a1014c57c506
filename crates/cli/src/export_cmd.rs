//! `slipway export terraform|k8s|jenkinsfile|github-actions`: prints the export, or writes it
//! with `-o` (a folder for Terraform, a file otherwise; nothing is written on an error).

use clap::Args;
use slipway_app::Slipway;
use slipway_core::export::ExportKind;
use slipway_core::UserError;
use std::path::PathBuf;

#[derive(Args)]
pub struct ExportArgs {
    /// What to export: terraform (the blueprint), k8s (a deployment's objects), jenkinsfile or
    /// github-actions (the pipeline).
    pub kind: String,
    /// The blueprint's project for terraform (default: slipway), else the pipeline project
    /// (default: the only one).
    #[arg(long)]
    pub project: Option<String>,
    /// The environment (k8s and the CI files; default: the one runs deploy to, or the only one).
    #[arg(long = "env")]
    pub env: Option<String>,
    /// Write it to PATH instead of printing it: a folder for terraform (main.tf, variables.tf,
    /// outputs.tf), a file for the others.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

pub async fn export(app: &Slipway, json: bool, a: ExportArgs) -> Result<(), UserError> {
    let kind = ExportKind::parse(&a.kind)?;
    let (project, env) = (a.project.as_deref(), a.env.as_deref());
    match a.output {
        None => {
            let e = app.export(kind, project, env).await?;
            for n in &e.notes {
                eprintln!("note: {n}");
            }
            if json {
                outln!("{}", serde_json::to_string_pretty(&e).expect("export json"));
            } else {
                out!("{}", e.text());
            }
        }
        Some(dest) => {
            let (e, written) = app.export_to(kind, project, env, &dest).await?;
            for n in &e.notes {
                eprintln!("note: {n}");
            }
            if json {
                outln!(
                    "{}",
                    serde_json::json!({"kind": kind, "written": written, "notes": e.notes})
                );
            } else {
                for w in &written {
                    outln!("wrote {}", w.display());
                }
            }
        }
    }
    Ok(())
}
