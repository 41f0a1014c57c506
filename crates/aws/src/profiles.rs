//! Profiles from the shared AWS config files, as the wizard lists them.

use slipway_core::connections::{AwsProfile, AwsProfileKind};
use slipway_core::UserError;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where the shared files are: AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/.
#[derive(Debug, Clone)]
pub struct ProfilePaths {
    pub config: PathBuf,
    pub credentials: PathBuf,
}

impl ProfilePaths {
    pub fn from_env() -> Self {
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
        Self {
            config: std::env::var_os("AWS_CONFIG_FILE").map(PathBuf::from).unwrap_or_else(|| home.join(".aws/config")),
            credentials: std::env::var_os("AWS_SHARED_CREDENTIALS_FILE")
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(".aws/credentials")),
        }
    }
}

struct Found {
    region: Option<String>,
    kind: AwsProfileKind,
    files: Vec<String>,
}

fn kind_of(props: &ini::Properties) -> Option<AwsProfileKind> {
    if props.contains_key("sso_start_url") || props.contains_key("sso_session") {
        Some(AwsProfileKind::Sso)
    } else if props.contains_key("credential_process") {
        Some(AwsProfileKind::CredentialProcess)
    } else if props.contains_key("role_arn") {
        Some(AwsProfileKind::AssumeRole)
    } else if props.contains_key("aws_access_key_id") {
        Some(AwsProfileKind::StaticKeys)
    } else {
        None
    }
}

fn load(path: &PathBuf) -> Result<Option<ini::Ini>, UserError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(UserError::new(
                "Cannot read AWS profiles",
                format!("{}: {e}", path.display()),
                "Check the file's permissions",
            ))
        }
    };
    // rust-ini reports an unclosed section at the end of the file; name the line itself.
    if let Some((n, _)) = text.lines().enumerate().find(|(_, l)| {
        let l = l.trim();
        l.starts_with('[') && !l.ends_with(']')
    }) {
        return Err(UserError::new(
            "Cannot read AWS profiles",
            format!("{} is malformed at line {}: a section header without its closing ']'", path.display(), n + 1),
            format!("Fix line {} of {} (sections look like [profile name], values like key = value)", n + 1, path.display()),
        ));
    }
    let opts = ini::ParseOption { enabled_quote: false, enabled_escape: false, ..Default::default() };
    ini::Ini::load_from_str_opt(&text, opts).map(Some).map_err(|e| {
        UserError::new(
            "Cannot read AWS profiles",
            format!("{} is malformed at line {}: {}", path.display(), e.line, e.msg),
            format!("Fix line {} of {} (sections look like [profile name], values like key = value)", e.line, path.display()),
        )
    })
}

/// Lists every profile in the config and credentials files, merged by name, sorted.
pub fn list_profiles(paths: &ProfilePaths) -> Result<Vec<AwsProfile>, UserError> {
    let mut found: BTreeMap<String, Found> = BTreeMap::new();
    for (path, is_config) in [(&paths.config, true), (&paths.credentials, false)] {
        let Some(ini) = load(path)? else { continue };
        for (section, props) in ini.iter() {
            let Some(section) = section.map(str::trim) else { continue };
            let name = if is_config {
                if section == "default" {
                    "default"
                } else if let Some(n) = section.strip_prefix("profile ") {
                    n.trim()
                } else {
                    continue; // sso-session, services, ... are not profiles
                }
            } else {
                section
            };
            if name.is_empty() {
                continue;
            }
            let e = found.entry(name.to_string()).or_insert(Found { region: None, kind: AwsProfileKind::Other, files: vec![] });
            if e.region.is_none() {
                e.region = props.get("region").map(|r| r.trim().to_string());
            }
            if let Some(k) = kind_of(props) {
                // Config-file kinds (SSO, process, role) win over keys in credentials.
                if e.kind == AwsProfileKind::Other || (is_config && k != AwsProfileKind::StaticKeys) {
                    e.kind = k;
                }
            }
            e.files.push(path.display().to_string());
        }
    }
    Ok(found
        .into_iter()
        .map(|(name, f)| AwsProfile { name, region: f.region, kind: f.kind, files: f.files })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(config: &str, creds: &str) -> (tempfile::TempDir, ProfilePaths) {
        let d = tempfile::tempdir().unwrap();
        let p = ProfilePaths { config: d.path().join("config"), credentials: d.path().join("credentials") };
        std::fs::write(&p.config, config).unwrap();
        std::fs::write(&p.credentials, creds).unwrap();
        (d, p)
    }

    #[test]
    fn lists_every_kind_merged_by_name() {
        let (_d, p) = paths(
            "[default]\nregion = eu-west-1\n\n[profile dev]\nsso_session = corp\nsso_account_id = 1\n\n[sso-session corp]\nsso_start_url = https://x.awsapps.com/start\n\n[profile proc]\ncredential_process = /bin/echo {}\n\n[profile admin]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = default\n",
            "[default]\naws_access_key_id = AKIA1\naws_secret_access_key = s\n\n[ci]\naws_access_key_id = AKIA2\naws_secret_access_key = t\nregion = us-west-2\n",
        );
        let got = list_profiles(&p).unwrap();
        let names: Vec<_> = got.iter().map(|p| (p.name.as_str(), p.kind, p.region.as_deref())).collect();
        assert_eq!(
            names,
            vec![
                ("admin", AwsProfileKind::AssumeRole, None),
                ("ci", AwsProfileKind::StaticKeys, Some("us-west-2")),
                ("default", AwsProfileKind::StaticKeys, Some("eu-west-1")),
                ("dev", AwsProfileKind::Sso, None),
                ("proc", AwsProfileKind::CredentialProcess, None),
            ]
        );
        assert_eq!(got[2].files.len(), 2);
    }

    #[test]
    fn missing_files_mean_no_profiles() {
        let d = tempfile::tempdir().unwrap();
        let p = ProfilePaths { config: d.path().join("nope"), credentials: d.path().join("nope2") };
        assert!(list_profiles(&p).unwrap().is_empty());
    }

    #[test]
    fn malformed_config_names_the_file_and_line() {
        let (_d, p) = paths("[default]\nregion = us-east-1\n[profile broken\nregion = x\n", "");
        let e = list_profiles(&p).unwrap_err();
        assert!(e.why.contains("config is malformed at line 3"), "{e}");
        assert!(e.fix.contains("line 3"), "{e}");
    }
}
