//! The local Docker engine as a deploy target: the database (kept across deploys), N replicas of
//! every service, and an NGINX reverse proxy on a loopback port in front of the entry service.
//! A deploy starts the new revision next to the old one, waits until every replica is healthy,
//! switches NGINX over with a reload, and only then removes the old revision; a failed or
//! cancelled deploy removes what it started and leaves the old revision serving.

use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use super::engine::{ContainerEngine, ContainerSpec, Labels};
use super::logs::StepLog;
use super::config::{DbConn, LOCAL_ENV};
use super::project::{Project, ServiceSpec};
use super::runner::{database_container_env, database_healthcheck, database_start_error, http_get, resolve_envs, schema_files, service_healthcheck, spawn_follow, wait_ready, DeployOutcome, DeployRequest, DeployTarget};
use crate::UserError;

pub struct LocalDocker {
    pub engine: Arc<dyn ContainerEngine>,
    /// The NGINX image (a local `nginx:stable` by default).
    pub proxy_image: String,
    pub ready_timeout: Duration,
}

impl LocalDocker {
    pub fn new(engine: Arc<dyn ContainerEngine>) -> Self {
        Self { engine, proxy_image: "nginx:stable".into(), ready_timeout: Duration::from_secs(120) }
    }

    fn base_labels(project: &str) -> Labels {
        let mut l = Labels::new();
        l.insert("slipway.deploy".into(), project.into());
        l.insert("slipway.env".into(), "local".into());
        l
    }

    fn role(project: &str, role: &str) -> Labels {
        let mut l = Self::base_labels(project);
        l.insert("slipway.role".into(), role.into());
        l
    }

    /// Removes the whole local deployment of a project (containers and network).
    pub async fn remove(&self, project: &str) -> Result<Vec<String>, UserError> {
        self.engine.remove_labelled(&Self::base_labels(project)).await
    }
}

/// NGINX configuration sending every request to the entry service's replicas.
pub fn nginx_config(upstreams: &[String]) -> String {
    let servers: String = upstreams.iter().map(|u| format!("    server {u} max_fails=1 fail_timeout=2s;\n")).collect();
    format!(
        "upstream slipway_app {{\n{servers}}}\nserver {{\n    listen 80 default_server;\n    location / {{\n        proxy_pass http://slipway_app;\n        proxy_set_header Host $host;\n        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n        proxy_set_header X-Forwarded-Proto $scheme;\n        proxy_next_upstream error timeout http_502 http_503;\n    }}\n}}\n"
    )
}

/// The shell script, run in the NGINX container, that switches it to a new configuration
/// (`b64`, base64): it writes and tests the file, reloads, then waits (up to 30 s) until the
/// worker processes of the old configuration have exited. A reload returns before NGINX acts
/// on it, and old workers finish their requests to the old replicas: removing those replicas
/// sooner fails requests (502).
pub fn nginx_switch_script(b64: &str) -> String {
    format!(
        r#"echo {b64} | base64 -d > /etc/nginx/conf.d/default.conf && nginx -t 2>&1 || exit 1
old=""
for p in /proc/[0-9]*; do
  case "$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null)" in "nginx: worker process"*) old="$old ${{p#/proc/}}" ;; esac
done
nginx -s reload 2>&1 || exit 1
i=0
while [ $i -lt 300 ]; do
  left=""
  for p in $old; do [ -e "/proc/$p" ] && left="$left $p"; done
  [ -z "$left" ] && exit 0
  sleep 0.1; i=$((i + 1))
done
echo "still running:$left"
"#
    )
}

fn order(project: &Project) -> Vec<&ServiceSpec> {
    // Dependencies first, so a service starts after the ones it calls.
    project.start_order()
}

#[async_trait]
impl DeployTarget for LocalDocker {
    fn name(&self) -> String {
        "local Docker engine".into()
    }

    async fn deploy(&self, req: &DeployRequest<'_>, log: &StepLog, cancel: &CancellationToken) -> Result<DeployOutcome, UserError> {
        let p = req.project;
        // Each deploy's replicas are their own revision, even when the run was deployed before
        // (a redeploy, a rollback to it): its containers never clash with the ones serving,
        // and a failure removes only the new ones.
        let mut rev = Self::role(&p.id, "service");
        rev.insert("slipway.revision".into(), format!("{}-{}", req.run_id, crate::secrets::random_hex(3)));
        match self.deploy_inner(req, log, cancel, &rev).await {
            Ok(out) => Ok(out),
            Err(e) => {
                log.line(format!("Removing the new revision {}: the previous one keeps serving", req.run_id));
                if let Err(e2) = self.engine.remove_labelled(&rev).await {
                    log.line(format!("Could not remove it: {}", e2.why));
                }
                Err(e)
            }
        }
    }
}

impl LocalDocker {
    async fn deploy_inner(&self, req: &DeployRequest<'_>, log: &StepLog, cancel: &CancellationToken, rev: &Labels) -> Result<DeployOutcome, UserError> {
        let p = req.project;
        let engine = self.engine.as_ref();
        let revision = rev.get("slipway.revision").cloned().unwrap_or_default();
        let cancelled = || UserError::new("Deploy cancelled", "the run was cancelled", "Run again to deploy");
        let net = format!("slipway-{}-local", p.id);
        engine.create_network(&net, &Self::base_labels(&p.id)).await?;
        let runs_log = log.path().parent().map(|d| d.to_path_buf()).unwrap_or_default();
        // Every replica's environment, worked out before anything starts.
        let conn = p.database.as_ref().map(|db| DbConn::provided(db, req.db_password.expose()));
        let envs = resolve_envs(req.repo, p, &req.settings, conn.as_ref(), LOCAL_ENV)?;
        if let Some(db) = &p.database {
            let running = engine.list(&Self::role(&p.id, "db")).await?.into_iter().find(|c| c.running);
            match running {
                Some(c) => log.line(format!("Database {} keeps running ({})", db.name, c.name)),
                None => {
                    engine.remove_labelled(&Self::role(&p.id, "db")).await?;
                    log.line(format!("Starting the database {} ({})", db.name, db.image));
                    let spec = ContainerSpec {
                        name: Some(format!("slipway-{}-local-{}", p.id, db.name)),
                        image: db.image.clone(),
                        env: database_container_env(db, req.db_password.expose(), req.db_password.expose()),
                        network: Some(net.clone()),
                        aliases: std::iter::once(db.name.clone()).chain(db.aliases.iter().cloned()).collect(),
                        labels: Self::role(&p.id, "db"),
                        files: schema_files(req.repo, db)?,
                        healthcheck: Some(database_healthcheck(db.engine)),
                        ..Default::default()
                    };
                    let id = engine.run(&spec).await?;
                    let db_log = StepLog::create(runs_log.join(format!("{}.log", db.name)))
                        .map_err(|e| UserError::new("The deploy log could not be written", e.to_string(), "Check the data folder"))?;
                    let follower = spawn_follow(self.engine.clone(), id.clone(), db_log.clone());
                    if let Err(e) = wait_ready(engine, &id, &format!("The database {}", db.name), db_log.path(), self.ready_timeout, cancel, None).await {
                        let _ = tokio::time::timeout(Duration::from_secs(2), follower).await;
                        let e = database_start_error(e, db, db_log.path());
                        // A database that never started is not kept for the next deploy.
                        let _ = engine.remove_labelled(&Self::role(&p.id, "db")).await;
                        return Err(e);
                    }
                    log.line(format!("Database {} is ready", db.name));
                }
            }
        }
        let mut entry_upstreams = vec![];
        let entry = p.entry_service().map(|s| s.name.clone()).unwrap_or_default();
        for svc in order(p) {
            let image = req.images.iter().find(|i| i.service == svc.name).map(|i| i.image.clone()).ok_or_else(|| {
                UserError::new(format!("No image for {}", svc.name), "the Build stage did not produce one", "Run the whole pipeline again")
            })?;
            for n in 1..=p.deploy.replicas {
                if cancel.is_cancelled() {
                    return Err(cancelled());
                }
                let name = format!("slipway-{}-{}-{revision}-{n}", p.id, svc.name);
                let spec = ContainerSpec {
                    name: Some(name.clone()),
                    image: image.clone(),
                    cmd: svc.command.clone(),
                    entrypoint: svc.entrypoint.clone(),
                    env: envs.get(&svc.name).cloned().unwrap_or_default(),
                    network: Some(net.clone()),
                    aliases: svc.names(),
                    publish: svc.port.map(|port| vec![(port, 0)]).unwrap_or_default(),
                    labels: rev.clone(),
                    healthcheck: service_healthcheck(svc),
                    ..Default::default()
                };
                let id = engine.run(&spec).await?;
                let rlog = StepLog::create(runs_log.join(format!("{}-{n}.log", svc.name)))
                    .map_err(|e| UserError::new("The deploy log could not be written", e.to_string(), "Check the data folder"))?;
                spawn_follow(self.engine.clone(), id.clone(), rlog.clone());
                let probe = if svc.healthcheck.is_some() { None } else { svc.port.map(|port| (port, svc.health_path.clone())) };
                wait_ready(engine, &id, &format!("Replica {n} of {}", svc.name), rlog.path(), self.ready_timeout, cancel, probe).await?;
                log.line(format!("{name} is ready"));
                if svc.name == entry {
                    entry_upstreams.push(format!("{name}:{}", svc.port.unwrap_or(80)));
                }
            }
        }
        if cancel.is_cancelled() {
            return Err(cancelled());
        }
        let conf = nginx_config(&entry_upstreams);
        let proxy = engine.list(&Self::role(&p.id, "proxy")).await?.into_iter().find(|c| c.running);
        let port = match proxy {
            Some(c) => {
                log.line(format!("Switching NGINX ({}) to revision {}", c.name, req.run_id));
                let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, conf.as_bytes());
                let cmd = vec!["sh".to_string(), "-c".to_string(), nginx_switch_script(&b64)];
                let (code, out) = engine.exec(&c.id, &cmd).await?;
                if code != 0 {
                    return Err(UserError::new("NGINX did not take the new configuration", String::from_utf8_lossy(&out).trim().to_string(), "Read the deploy log; the previous revision keeps serving"));
                }
                let out = String::from_utf8_lossy(&out);
                if let Some(l) = out.lines().find(|l| l.starts_with("still running:")) {
                    log.line(format!("NGINX's previous workers are {l}; the previous revision goes anyway"));
                }
                c.ports.iter().find(|(cp, _)| *cp == 80).map(|(_, h)| *h).unwrap_or(0)
            }
            None => {
                engine.remove_labelled(&Self::role(&p.id, "proxy")).await?;
                log.line(format!("Starting NGINX ({}) in front of {entry}", self.proxy_image));
                let spec = ContainerSpec {
                    name: Some(format!("slipway-{}-proxy", p.id)),
                    image: self.proxy_image.clone(),
                    network: Some(net.clone()),
                    publish: vec![(80, p.deploy.proxy_port)],
                    labels: Self::role(&p.id, "proxy"),
                    files: vec![("/etc/nginx/conf.d/default.conf".into(), conf.into_bytes()), ("/etc/nginx/sites-enabled/default".into(), vec![])],
                    ..Default::default()
                };
                let id = engine.run(&spec).await?;
                let st = engine.inspect(&id).await?;
                st.ports.iter().find(|(cp, _)| *cp == 80).map(|(_, h)| *h).unwrap_or(0)
            }
        };
        // The app must answer through NGINX before the old revision goes.
        let deadline = tokio::time::Instant::now() + self.ready_timeout;
        loop {
            match http_get(port, "/").await {
                Ok((200..=399, _)) => break,
                other => {
                    if tokio::time::Instant::now() > deadline {
                        let why = match other {
                            Ok((code, body)) => format!("GET / through NGINX on port {port} answered {code}: {}", body.chars().take(200).collect::<String>()),
                            Err(e) => format!("GET / through NGINX on port {port} failed: {e}"),
                        };
                        return Err(UserError::new("The deployed app does not answer", why, "Read the replicas' logs in this stage"));
                    }
                }
            }
            if cancel.is_cancelled() {
                return Err(cancelled());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // Committed: the old revisions go.
        for c in engine.list(&Self::role(&p.id, "service")).await? {
            let old_rev = c.labels.get("slipway.revision").cloned().unwrap_or_default();
            if old_rev != revision {
                let mut l = Self::role(&p.id, "service");
                l.insert("slipway.revision".into(), old_rev.clone());
                let removed = engine.remove_labelled(&l).await?;
                if !removed.is_empty() {
                    log.line(format!("Removed revision {old_rev}: {}", removed.join(", ")));
                }
            }
        }
        Ok(DeployOutcome { url: format!("http://127.0.0.1:{port}/") })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nginx_switch_is_valid_shell_and_waits_for_the_old_workers() {
        let script = nginx_switch_script("dXBzdHJlYW0K");
        let o = std::process::Command::new("sh").args(["-n", "-c", &script]).output().unwrap();
        assert!(o.status.success(), "{}\n{script}", String::from_utf8_lossy(&o.stderr));
        assert!(script.contains("echo dXBzdHJlYW0K | base64 -d") && script.contains("tr '\\0' ' '") && script.contains("${p#/proc/}"), "{script}");
        // Its own `sh -c` holds the script text: only NGINX's workers match, never the script.
        assert!(script.contains(r#"in "nginx: worker process"*)"#), "{script}");
    }

    #[test]
    fn nginx_config_lists_every_replica() {
        let c = nginx_config(&["a-1:8080".into(), "a-2:8080".into()]);
        assert!(c.contains("server a-1:8080 ") && c.contains("server a-2:8080 ") && c.contains("proxy_pass http://slipway_app;"));
    }

}
