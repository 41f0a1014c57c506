//! `slipway env config`: a project's configuration per environment (`all`, `test`, `local` and
//! its Kubernetes environments), secrets read from stdin (or `SLIPWAY_VALUE`) into the keychain,
//! and moving the secrets a repository commits into the keychain.

use clap::Subcommand;
use slipway_app::config::ConfigInput;
use slipway_app::Slipway;
use slipway_core::pipeline::config::ConfigView;
use slipway_core::secrets::Secret;
use slipway_core::UserError;
use std::io::{IsTerminal, Read, Write};
use std::sync::Arc;

#[derive(Subcommand)]
pub enum ConfigCmd {
    /// Set a value: NAME=VALUE, or NAME --secret with the value on stdin (or SLIPWAY_VALUE).
    Set {
        assignment: String,
        #[arg(long)]
        secret: bool,
    },
    /// Remove an environment's own value (the repository's applies again).
    Unset { name: String },
    /// Move the secrets the repository commits into the keychain (for every environment).
    MoveSecrets {
        /// Confirm without being asked.
        #[arg(long)]
        yes: bool,
    },
}

fn print_view(json: bool, v: &ConfigView) {
    if json {
        outln!("{}", serde_json::to_string_pretty(v).expect("json"));
        return;
    }
    outln!("configuration of {} for {} (environments: {})", v.project, v.environment, v.environments.join(", "));
    if v.rows.is_empty() {
        outln!("  (no values)");
    }
    for r in &v.rows {
        let value = if r.secret { "(secret)".to_string() } else { r.value.clone().unwrap_or_default() };
        let services = if r.services.is_empty() { String::new() } else { format!("  [{}]", r.services.join(", ")) };
        outln!("  {:<28} {:<36} from {}{services}", r.name, value, r.from);
        if let Some(c) = &r.committed {
            outln!("  {:<28} ! {c}", "");
        }
    }
}

fn read_value() -> Result<Secret, UserError> {
    if let Ok(v) = std::env::var("SLIPWAY_VALUE") {
        return Ok(Secret::new(v));
    }
    let bad = |e: std::io::Error| UserError::new("Invalid command", format!("could not read the value: {e}"), "Pipe it on stdin or set SLIPWAY_VALUE");
    let mut s = String::new();
    if std::io::stdin().is_terminal() {
        eprint!("value: ");
        let _ = std::io::stderr().flush();
        std::io::stdin().read_line(&mut s).map_err(bad)?;
    } else {
        std::io::stdin().read_to_string(&mut s).map_err(bad)?;
    }
    Ok(Secret::new(s.lines().next().unwrap_or("").to_string()))
}

pub async fn config(app: &Arc<Slipway>, json: bool, project: Option<String>, env: Option<String>, cmd: Option<ConfigCmd>) -> Result<(), UserError> {
    let env_name = env.clone().unwrap_or_else(|| "all".into());
    match cmd {
        None => print_view(json, &app.config(project.as_deref(), env.as_deref()).await?),
        Some(ConfigCmd::Set { assignment, secret }) => {
            let input = if secret {
                if assignment.contains('=') {
                    return Err(UserError::new("Invalid command", "a secret's value is never given as an argument", "Give the name only, and the value on stdin: `slipway env config set NAME --secret < file`"));
                }
                ConfigInput { value: None, secret: Some(read_value()?) }
            } else {
                let (_, v) = assignment.split_once('=').ok_or_else(|| UserError::new("Invalid command", format!("'{assignment}' is not NAME=VALUE"), "Write NAME=VALUE, or NAME --secret for a secret"))?;
                ConfigInput { value: Some(v.to_string()), secret: None }
            };
            let name = assignment.split('=').next().unwrap_or_default();
            print_view(json, &app.config_set(project.as_deref(), &env_name, name, input).await?);
        }
        Some(ConfigCmd::Unset { name }) => print_view(json, &app.config_unset(project.as_deref(), &env_name, &name).await?),
        Some(ConfigCmd::MoveSecrets { yes }) => {
            let view = app.config(project.as_deref(), None).await?;
            let committed: Vec<&String> = view.rows.iter().filter_map(|r| r.committed.as_ref()).collect();
            if !yes {
                if !std::io::stdin().is_terminal() {
                    return Err(UserError::new("Not confirmed", format!("{} committed secret(s) would move to the keychain", committed.len()), "Run again with --yes to confirm"));
                }
                for c in &committed {
                    eprintln!("  {c}");
                }
                eprint!("Move these to the keychain for every environment of {}? [y/N] ", view.project);
                let _ = std::io::stderr().flush();
                let mut a = String::new();
                let _ = std::io::stdin().read_line(&mut a);
                if !a.trim().eq_ignore_ascii_case("y") {
                    return Err(UserError::new("Not confirmed", "nothing was moved", "Answer y to move them"));
                }
            }
            let moved = app.move_committed_secrets(Some(&view.project)).await?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&moved).expect("json"));
            } else {
                outln!("moved to the keychain: {}", moved.join(", "));
                outln!("Remove them from the repository and rotate them: they stay in its history.");
            }
        }
    }
    Ok(())
}
