//! Exports: Slipway's knowledge as files other tools read. The architecture as Terraform for
//! the AWS provider ([`terraform`]), the pipeline as a declarative Jenkinsfile ([`jenkinsfile`])
//! and as a GitHub Actions workflow ([`github_actions`]), both from the shell steps in [`ci`].
//! The deployment as Kubernetes YAML needs the manifests renderer, so it lives in
//! `slipway-kube` (`export.rs`); the service layer (`crates/app/src/export.rs`) gathers the
//! inputs and [`write`] puts the files on disk.
//!
//! Everything here is a pure function of its input, and no export ever holds a secret value:
//! passwords and keys are variables, CI credentials, or the placeholder [`PLACEHOLDER_PASSWORD`].

pub mod ci;
pub mod github_actions;
pub mod jenkinsfile;
pub mod terraform;

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use ts_rs::TS;

use crate::UserError;

/// What can be exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[ts(export)]
pub enum ExportKind {
    /// The blueprint as Terraform for the AWS provider: main.tf, variables.tf, outputs.tf.
    #[serde(rename = "terraform")]
    Terraform,
    /// The objects a deploy applies, as multi-document YAML.
    #[serde(rename = "k8s")]
    Kubernetes,
    /// The pipeline as a declarative Jenkinsfile.
    #[serde(rename = "jenkinsfile")]
    Jenkinsfile,
    /// The pipeline as `.github/workflows/slipway.yml`.
    #[serde(rename = "github-actions")]
    GithubActions,
}

impl ExportKind {
    pub const ALL: [ExportKind; 4] = [
        ExportKind::Terraform,
        ExportKind::Kubernetes,
        ExportKind::Jenkinsfile,
        ExportKind::GithubActions,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Terraform => "terraform",
            Self::Kubernetes => "k8s",
            Self::Jenkinsfile => "jenkinsfile",
            Self::GithubActions => "github-actions",
        }
    }

    pub fn parse(s: &str) -> Result<Self, UserError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "terraform" | "tf" => Ok(Self::Terraform),
            "k8s" | "kubernetes" => Ok(Self::Kubernetes),
            "jenkinsfile" | "jenkins" => Ok(Self::Jenkinsfile),
            "github-actions" | "github" | "gha" => Ok(Self::GithubActions),
            _ => Err(UserError::new(
                "Unknown export",
                format!("'{s}' is not something Slipway exports"),
                format!("Use one of: {}", Self::ALL.map(Self::as_str).join(", ")),
            )),
        }
    }

    /// Terraform is several files, written into a folder; the others are one file.
    pub fn writes_folder(self) -> bool {
        self == Self::Terraform
    }

    /// Where the export usually goes (relative to the repository or the working folder).
    pub fn default_path(self) -> &'static str {
        match self {
            Self::Terraform => "terraform",
            Self::Kubernetes => ci::K8S_EXPORT_PATH,
            Self::Jenkinsfile => "Jenkinsfile",
            Self::GithubActions => ".github/workflows/slipway.yml",
        }
    }
}

/// One exported file: its name (relative to where the export is written) and its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ExportFile {
    pub path: String,
    pub content: String,
}

/// The result of an export: one file, or several for Terraform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Export {
    pub kind: ExportKind,
    pub files: Vec<ExportFile>,
    /// What a person should know before using it ("no run has built images yet: ...").
    pub notes: Vec<String>,
}

impl Export {
    /// Every file as one text (Terraform's files one after the other, which is itself valid
    /// HCL): what `slipway export` prints without `-o`.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for f in &self.files {
            if !out.is_empty() && !out.ends_with("\n\n") {
                out.push('\n');
            }
            out.push_str(&f.content);
        }
        out
    }
}

/// Where a database password goes in a value: the Kubernetes export writes
/// [`PLACEHOLDER_PASSWORD`] there, the CI exports a reference to their credential.
pub const PASSWORD_MARK: &str = "\u{1}password\u{2}";
/// The text that stands for the database password in exported Secrets.
pub const PLACEHOLDER_PASSWORD: &str = "REPLACE_WITH_DB_PASSWORD";
/// The label of exported objects whose values are placeholders (the database Secrets): CI
/// applies the export without them (`-l 'slipway.dev/placeholder!=true'`) and creates them from
/// its credentials.
pub const LABEL_PLACEHOLDER: &str = "slipway.dev/placeholder";

fn not_written(why: String, fix: impl Into<String>) -> UserError {
    UserError::new("The export was not written", why, fix)
}

/// Writes an export: Terraform's files into the folder `dest` (made when missing), any other
/// export to the file `dest` (its folder made when missing). Existing export files are
/// replaced. Everything is checked and written to temporary files first, so on an error
/// nothing is left behind. Returns the files written.
pub fn write(export: &Export, dest: &Path) -> Result<Vec<PathBuf>, UserError> {
    let folder = export.kind.writes_folder();
    let targets: Vec<PathBuf> = if folder {
        export.files.iter().map(|f| dest.join(&f.path)).collect()
    } else {
        vec![dest.to_path_buf()]
    };
    if folder {
        if dest.exists() && !dest.is_dir() {
            return Err(not_written(
                format!(
                    "{} exists and is a file; the Terraform export is a folder of .tf files",
                    dest.display()
                ),
                "Give a folder (new or existing) with -o",
            ));
        }
    } else if dest.is_dir() {
        return Err(not_written(
            format!(
                "{} is a folder; the {} export is one file",
                dest.display(),
                export.kind.as_str()
            ),
            format!(
                "Give a file path, e.g. {}",
                dest.join(
                    Path::new(export.kind.default_path())
                        .file_name()
                        .unwrap_or_default()
                )
                .display()
            ),
        ));
    }
    if !folder && export.files.len() != 1 {
        return Err(not_written(
            format!(
                "the {} export has {} files",
                export.kind.as_str(),
                export.files.len()
            ),
            "Report this as a bug",
        ));
    }
    for t in &targets {
        if t.is_dir() {
            return Err(not_written(
                format!("{} is a folder", t.display()),
                "Remove or rename it, or write the export elsewhere",
            ));
        }
    }
    // The folder the files go into, and which of its ancestors are missing.
    let dir = if folder {
        dest.to_path_buf()
    } else {
        dest.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    };
    let mut missing = vec![];
    let mut cur = Some(dir.as_path());
    while let Some(c) = cur.filter(|c| !c.as_os_str().is_empty()) {
        if c.exists() {
            if !c.is_dir() {
                return Err(not_written(
                    format!(
                        "{} is a file, so nothing can be written below it",
                        c.display()
                    ),
                    "Choose another path with -o",
                ));
            }
            break;
        }
        missing.push(c.to_path_buf());
        cur = c.parent();
    }
    let mut made_dirs = vec![];
    let mut temps: Vec<PathBuf> = vec![];
    let undo = |temps: &[PathBuf], dirs: &[PathBuf]| {
        for t in temps {
            let _ = std::fs::remove_file(t);
        }
        for d in dirs.iter() {
            let _ = std::fs::remove_dir(d);
        }
    };
    for d in missing.iter().rev() {
        if let Err(e) = std::fs::create_dir(d) {
            undo(&temps, &made_dirs.iter().rev().cloned().collect::<Vec<_>>());
            return Err(not_written(
                format!("{}: {e}", d.display()),
                "Choose a path you can write to with -o",
            ));
        }
        made_dirs.push(d.clone());
    }
    let dirs_newest_first: Vec<PathBuf> = made_dirs.iter().rev().cloned().collect();
    let contents: Vec<&str> = export.files.iter().map(|f| f.content.as_str()).collect();
    for (t, content) in targets.iter().zip(&contents) {
        let name = t
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = t.with_file_name(format!(".{name}.slipway-{}", crate::secrets::random_hex(4)));
        if let Err(e) = std::fs::write(&tmp, content) {
            undo(&temps, &dirs_newest_first);
            let _ = std::fs::remove_file(&tmp);
            return Err(not_written(
                format!("{}: {e}", t.display()),
                "Choose a path you can write to with -o",
            ));
        }
        temps.push(tmp);
    }
    for (tmp, t) in temps.iter().zip(&targets) {
        if let Err(e) = std::fs::rename(tmp, t) {
            undo(&temps, &dirs_newest_first);
            return Err(not_written(
                format!("{}: {e}", t.display()),
                "Choose a path you can write to with -o",
            ));
        }
    }
    Ok(targets)
}

/// A value for a POSIX shell word: single-quoted, with [`PASSWORD_MARK`] replaced by a
/// double-quoted reference to the variable `password_var` (which the shell expands).
pub fn shell_word(value: &str, password_var: &str) -> String {
    let quote = |s: &str| -> String {
        if !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c))
        {
            s.to_string()
        } else {
            // `${{` is broken as `$''{{` (the same word to bash), so no GitHub expression ever
            // reaches a `run:` block from a repository string.
            format!("'{}'", s.replace('\'', r"'\''").replace("${{", "$''{{"))
        }
    };
    let parts: Vec<&str> = value.split(PASSWORD_MARK).collect();
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(&format!("\"${{{password_var}}}\""));
        }
        if !p.is_empty() {
            out.push_str(&quote(p));
        }
    }
    if out.is_empty() {
        "''".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn export(kind: ExportKind, files: &[(&str, &str)]) -> Export {
        Export {
            kind,
            files: files
                .iter()
                .map(|(p, c)| ExportFile {
                    path: p.to_string(),
                    content: c.to_string(),
                })
                .collect(),
            notes: vec![],
        }
    }

    #[test]
    fn kinds_parse_with_their_names_and_refuse_others() {
        for k in ExportKind::ALL {
            assert_eq!(ExportKind::parse(k.as_str()).unwrap(), k);
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert_eq!(
            ExportKind::parse("Kubernetes").unwrap(),
            ExportKind::Kubernetes
        );
        let e = ExportKind::parse("ansible").unwrap_err();
        assert!(
            e.why.contains("'ansible'")
                && e.fix
                    .contains("terraform, k8s, jenkinsfile, github-actions"),
            "{e}"
        );
    }

    #[test]
    fn shell_words_quote_and_reference_the_password() {
        assert_eq!(shell_word("db", "P"), "db");
        assert_eq!(shell_word("a b", "P"), "'a b'");
        assert_eq!(shell_word("it's", "P"), r"'it'\''s'");
        assert_eq!(
            shell_word(
                &format!("mysql://u:{PASSWORD_MARK}@db:3306/x"),
                "DB_PASSWORD"
            ),
            "mysql://u:\"${DB_PASSWORD}\"@db:3306/x"
        );
        assert_eq!(shell_word(PASSWORD_MARK, "P"), "\"${P}\"");
        assert_eq!(shell_word("", "P"), "''");
        assert_eq!(shell_word("$HOME", "P"), "'$HOME'");
    }

    #[test]
    fn one_file_exports_are_written_with_their_folders_and_replace_older_ones() {
        let d = tempfile::tempdir().unwrap();
        let e = export(ExportKind::GithubActions, &[("slipway.yml", "a: 1\n")]);
        let dest = d.path().join(".github/workflows/slipway.yml");
        assert_eq!(write(&e, &dest).unwrap(), vec![dest.clone()]);
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "a: 1\n");
        let e2 = export(ExportKind::GithubActions, &[("slipway.yml", "a: 2\n")]);
        write(&e2, &dest).unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "a: 2\n");
        let names: Vec<_> = std::fs::read_dir(dest.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
    }

    #[test]
    fn terraform_goes_into_a_folder() {
        let d = tempfile::tempdir().unwrap();
        let e = export(
            ExportKind::Terraform,
            &[("main.tf", "a = 1\n"), ("variables.tf", "b = 2\n")],
        );
        let written = write(&e, &d.path().join("tf")).unwrap();
        assert_eq!(
            written,
            vec![
                d.path().join("tf/main.tf"),
                d.path().join("tf/variables.tf")
            ]
        );
        assert_eq!(
            std::fs::read_to_string(d.path().join("tf/variables.tf")).unwrap(),
            "b = 2\n"
        );
    }

    #[test]
    fn a_path_of_the_wrong_kind_is_refused_and_nothing_is_written() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("file.txt");
        std::fs::write(&file, "keep").unwrap();
        let tf = export(ExportKind::Terraform, &[("main.tf", "a = 1\n")]);
        let e = write(&tf, &file).unwrap_err();
        assert!(e.why.contains("exists and is a file"), "{e}");
        let one = export(ExportKind::Jenkinsfile, &[("Jenkinsfile", "pipeline {}\n")]);
        let e = write(&one, d.path()).unwrap_err();
        assert!(
            e.why.contains("is a folder") && e.fix.contains("Jenkinsfile"),
            "{e}"
        );
        let e = write(&one, &file.join("sub/Jenkinsfile")).unwrap_err();
        assert!(e.why.contains("file.txt is a file"), "{e}");
        let e = write(&tf, &file.join("tf")).unwrap_err();
        assert!(e.why.contains("file.txt is a file"), "{e}");
        // A target inside the Terraform folder that is a folder itself.
        std::fs::create_dir_all(d.path().join("tf/main.tf")).unwrap();
        let e = write(
            &export(
                ExportKind::Terraform,
                &[("variables.tf", "x"), ("main.tf", "y")],
            ),
            &d.path().join("tf"),
        )
        .unwrap_err();
        assert!(e.why.contains("main.tf is a folder"), "{e}");
        assert!(
            !d.path().join("tf/variables.tf").exists(),
            "nothing written on an error"
        );
        let mut left: Vec<_> = walk(d.path());
        left.sort();
        assert_eq!(
            left,
            vec![
                file.clone(),
                d.path().join("tf"),
                d.path().join("tf/main.tf")
            ]
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep");
    }

    fn walk(p: &Path) -> Vec<PathBuf> {
        let mut out = vec![];
        for e in std::fs::read_dir(p).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                out.extend(walk(&path));
            }
            out.push(path);
        }
        out
    }
}
