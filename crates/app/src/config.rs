//! Configuration per environment as the front ends see it: the values a project's services get
//! in the Test stage (`test`), on the local engine (`local`) and in each Kubernetes environment,
//! over the defaults the repository gives (`.env`, env files, compose, slipway.toml). Values an
//! environment sets are kept in the store (`config:<project>`), secrets in the keychain only
//! (`config/<project>/<environment>/<NAME>`). Moving the secrets a repository commits to the
//! keychain is one call, after the user confirms.

use slipway_core::pipeline::config::{ConfigRow, ConfigValue, ConfigView, ProjectConfig, ALL_ENVS, LOCAL_ENV, TEST_ENV};
use slipway_core::pipeline::project::{self, Project, Source};
use slipway_core::secrets::{Secret, SecretRef};
use slipway_core::UserError;
use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::Slipway;

/// What `config_set` is given: a plain value, or a secret (kept in the keychain only).
#[derive(Debug, Clone, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ConfigInput {
    pub value: Option<String>,
    #[ts(type = "string | null")]
    pub secret: Option<Secret>,
}

fn valid_name(n: &str) -> bool {
    !n.is_empty() && n.len() <= 128 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-') && !n.starts_with(|c: char| c.is_ascii_digit())
}

impl Slipway {
    fn config_ref(&self, project: &str, env: &str, name: &str) -> SecretRef {
        SecretRef::for_connection(self.store.instance_id(), &format!("config/{project}/{env}/{name}"))
    }

    pub(crate) async fn project_config(&self, project: &str) -> Result<ProjectConfig, UserError> {
        Ok(match self.store.integration(&format!("config:{project}")).await? {
            Some(v) => serde_json::from_value(v).unwrap_or_default(),
            None => ProjectConfig::default(),
        })
    }

    async fn save_project_config(&self, project: &str, c: &ProjectConfig) -> Result<(), UserError> {
        let v = serde_json::to_value(c).expect("config serializes");
        Ok(self.store.save_integration(&format!("config:{project}"), Some(&v)).await?)
    }

    /// The environments a project's values can be set for.
    async fn config_envs(&self, project: &str) -> Result<Vec<String>, UserError> {
        let mut v = vec![ALL_ENVS.to_string(), TEST_ENV.to_string(), LOCAL_ENV.to_string()];
        for e in self.store.environments(Some(project)).await? {
            if !v.contains(&e.name) {
                v.push(e.name);
            }
        }
        Ok(v)
    }

    async fn check_env(&self, project: &str, env: &str) -> Result<(), UserError> {
        let envs = self.config_envs(project).await?;
        if envs.iter().any(|e| e == env) {
            return Ok(());
        }
        Err(UserError::new("No such environment", format!("project {project} has no environment \"{env}\" (it has {})", envs.join(", ")), "Use all, test, local, or an environment from `slipway env list`"))
    }

    /// The values an environment sets (its own over `all`'s), secrets read from the keychain.
    /// Used when a run or a deploy builds the services' environment.
    pub async fn env_settings(&self, project: &str, env: &str) -> Result<BTreeMap<String, Secret>, UserError> {
        let c = self.project_config(project).await?;
        let mut out = BTreeMap::new();
        for v in c.for_env(env) {
            if v.secret {
                match self.secrets.get(&self.config_ref(project, &v.environment, &v.name))? {
                    Some(s) => {
                        out.insert(v.name.clone(), s);
                    }
                    None => {
                        return Err(UserError::new(
                            format!("The secret {} of {project} is missing", v.name),
                            format!("it is set for {} but no longer in the keychain", v.environment),
                            format!("Set it again: `slipway env config --env {} set {} --secret`", v.environment, v.name),
                        ))
                    }
                }
            } else if let Some(val) = &v.value {
                out.insert(v.name.clone(), Secret::new(val.clone()));
            }
        }
        Ok(out)
    }

    /// A project's configuration for one environment (`all` when None): each value, where it
    /// comes from, and the committed secrets no environment has moved to the keychain yet.
    pub async fn config(&self, project: Option<&str>, env: Option<&str>) -> Result<ConfigView, UserError> {
        let p = match project {
            Some(id) => self.project(id).await?,
            None => self.default_project().await?,
        };
        let env = env.unwrap_or(ALL_ENVS).to_string();
        self.check_env(&p.id, &env).await?;
        let c = self.project_config(&p.id).await?;
        let mut rows: BTreeMap<String, ConfigRow> = BTreeMap::new();
        for s in &p.settings {
            let committed = p.committed_secrets.iter().find(|c| c.name == s.name).map(|c| c.message());
            rows.insert(s.name.clone(), ConfigRow { name: s.name.clone(), value: s.value.clone(), secret: s.secret, from: s.source.clone(), services: s.services.clone(), committed, set_here: false });
        }
        for cs in p.committed_secrets.iter().filter(|c| c.name.starts_with("Secret/")) {
            let key = cs.name.rsplit('.').next().unwrap_or(&cs.name).to_string();
            rows.entry(key.clone()).or_insert(ConfigRow { name: key, value: None, secret: true, from: format!("{} line {}", cs.file, cs.line), services: vec![], committed: Some(cs.message()), set_here: false });
        }
        for v in c.for_env(&env) {
            let row = rows.entry(v.name.clone()).or_insert(ConfigRow { name: v.name.clone(), value: None, secret: v.secret, from: String::new(), services: vec![], committed: None, set_here: false });
            row.secret = v.secret;
            row.value = if v.secret { None } else { v.value.clone() };
            row.set_here = v.environment == env;
            row.from = if v.environment == ALL_ENVS { "set for all environments".into() } else { format!("set for {}", v.environment) };
            if v.secret {
                row.from.push_str(" (keychain)");
                row.committed = None;
            }
        }
        Ok(ConfigView { project: p.id.clone(), environment: env, environments: self.config_envs(&p.id).await?, rows: rows.into_values().collect() })
    }

    /// Sets a value for an environment (`all` for every one). A secret goes to the keychain
    /// only; the store records that it is set.
    pub async fn config_set(&self, project: Option<&str>, env: &str, name: &str, input: ConfigInput) -> Result<ConfigView, UserError> {
        let p = match project {
            Some(id) => self.project(id).await?,
            None => self.default_project().await?,
        };
        self.check_env(&p.id, env).await?;
        if !valid_name(name) {
            return Err(UserError::new("Invalid setting name", format!("\"{name}\" is not a variable name"), "Use letters, digits and underscores, starting with a letter"));
        }
        let mut c = self.project_config(&p.id).await?;
        match (input.value, input.secret) {
            (_, Some(s)) => {
                if s.is_empty() {
                    return Err(UserError::new("Empty secret", format!("no value was given for {name}"), "Give the value on stdin (CLI) or in the field"));
                }
                self.secrets.put(&self.config_ref(&p.id, env, name), &s)?;
                c.set(ConfigValue { name: name.into(), environment: env.into(), value: None, secret: true });
            }
            (Some(v), None) => {
                let _ = self.secrets.delete(&self.config_ref(&p.id, env, name));
                c.set(ConfigValue { name: name.into(), environment: env.into(), value: Some(v), secret: false });
            }
            (None, None) => return Err(UserError::new("No value", format!("neither a value nor a secret was given for {name}"), "Give NAME=VALUE, or --secret with the value on stdin")),
        }
        self.save_project_config(&p.id, &c).await?;
        self.progress("config", format!("{name} set for {env} of {}", p.id)).await;
        self.config(Some(&p.id), Some(env)).await
    }

    /// Removes an environment's own value (the repository's default applies again).
    pub async fn config_unset(&self, project: Option<&str>, env: &str, name: &str) -> Result<ConfigView, UserError> {
        let p = match project {
            Some(id) => self.project(id).await?,
            None => self.default_project().await?,
        };
        self.check_env(&p.id, env).await?;
        let mut c = self.project_config(&p.id).await?;
        if !c.unset(env, name) {
            return Err(UserError::new("Nothing to remove", format!("{name} is not set for {env}"), "List the values with `slipway env config --env ENV`"));
        }
        let _ = self.secrets.delete(&self.config_ref(&p.id, env, name));
        self.save_project_config(&p.id, &c).await?;
        self.config(Some(&p.id), Some(env)).await
    }

    /// The secret values the repository commits, read from it now (the working tree of a local
    /// repository, a fresh clone of a URL): (name -> value), never stored.
    async fn committed_values(&self, p: &Project) -> Result<BTreeMap<String, Secret>, UserError> {
        let (root, _tmp) = match &p.source {
            Source::Path { path } => (PathBuf::from(path).join(&p.subdir), None),
            Source::Git { .. } => {
                let dir = self.data_dir().join("work").join(format!("secrets-{}", slipway_core::secrets::random_hex(6)));
                use slipway_core::pipeline::runner::SourceProvider;
                let token = self.git_token_if_connected().await;
                slipway_git_host::checkout::Git.checkout(&p.source, &p.git_ref, &dir, token.as_ref(), &slipway_core::pipeline::engine::NoLog).await?;
                (dir.join(&p.subdir), Some(crate::pipeline::TempDir(dir)))
            }
        };
        let d = project::detect_full(&root, &p.id, p.source.clone(), &BTreeMap::new())?;
        let mut out = BTreeMap::new();
        for ((_, name), v) in d.secrets {
            out.entry(name).or_insert(Secret::new(v));
        }
        if !p.manifests.is_empty() {
            for doc in slipway_kube::manifests::load_docs(&root, &p.manifests)? {
                let o = &doc.object;
                if o["kind"] != "Secret" {
                    continue;
                }
                for (k, v) in o["stringData"].as_object().into_iter().flatten() {
                    out.entry(k.clone()).or_insert(Secret::new(v.as_str().unwrap_or_default()));
                }
                for (k, v) in o["data"].as_object().into_iter().flatten() {
                    let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, v.as_str().unwrap_or_default().trim()).unwrap_or_default();
                    out.entry(k.clone()).or_insert(Secret::new(String::from_utf8_lossy(&bytes).into_owned()));
                }
            }
        }
        Ok(out)
    }

    /// Moves the secrets the repository commits into the keychain (for all environments), so
    /// runs and deploys take them from there; the board's card about them goes to Done.
    /// Returns the names moved.
    pub async fn move_committed_secrets(&self, project: Option<&str>) -> Result<Vec<String>, UserError> {
        let p = match project {
            Some(id) => self.project(id).await?,
            None => self.default_project().await?,
        };
        if p.committed_secrets.is_empty() {
            return Err(UserError::new("Nothing to move", format!("detection found no secret committed in {}", p.id), "Detect the project again if the repository changed"));
        }
        let values = self.committed_values(&p).await?;
        let mut c = self.project_config(&p.id).await?;
        let mut moved = vec![];
        for cs in &p.committed_secrets {
            let name = if cs.name.starts_with("Secret/") { cs.name.rsplit('.').next().unwrap_or(&cs.name).to_string() } else { cs.name.clone() };
            if moved.contains(&name) || c.values.iter().any(|v| v.name == name && v.environment == ALL_ENVS) {
                continue;
            }
            let Some(v) = values.get(&name) else { continue };
            self.secrets.put(&self.config_ref(&p.id, ALL_ENVS, &name), v)?;
            c.set(ConfigValue { name: name.clone(), environment: ALL_ENVS.into(), value: None, secret: true });
            moved.push(name);
        }
        self.save_project_config(&p.id, &c).await?;
        let pid = p.id.clone();
        self.board_committed_secrets(&pid, &[], true).await;
        self.progress("config", format!("{} secret{} of {} moved to the keychain: {}", moved.len(), if moved.len() == 1 { "" } else { "s" }, p.id, moved.join(", "))).await;
        Ok(moved)
    }
}
