//! Jenkins through its JSON API (reqwest, Basic auth with the user's API token): the server and
//! who we are, jobs (folders too), builds, a Pipeline build's stage view (`wfapi/describe`), its
//! console log read progressively from an offset (`X-Text-Size`, `X-More-Data`), and starting a
//! build with the CSRF crumb (`crumbIssuer`, sent back as the field it names, with the session
//! cookie it was issued to). Every refusal is a [`UserError`]; the token never appears in one.

use slipway_core::integrations::*;
use slipway_core::secrets::Secret;
use slipway_core::{error_chain, UserError};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The most of a console log read (and held in memory) at once: a longer log is read in
/// several chunks, each from where the last one ended.
pub const CONSOLE_CHUNK_LIMIT: usize = 1 << 20;

pub struct Jenkins {
    http: reqwest::Client,
    base: String,
    user: String,
    token: Secret,
}

/// A refused answer as the person sees it.
fn refusal(what: &str, target: &str, status: u16, body: &str) -> UserError {
    // Jenkins answers errors with an HTML page; its message is in the <title> or a <p>.
    let text: String = body.chars().take(4000).collect();
    let short = text
        .split_once("<title>")
        .and_then(|(_, r)| r.split_once("</title>"))
        .map(|(t, _)| t.trim().to_string())
        .unwrap_or_else(|| {
            text.lines()
                .next()
                .unwrap_or_default()
                .trim()
                .chars()
                .take(200)
                .collect()
        });
    match status {
        401 => UserError::new(
            what,
            format!("Jenkins rejected the user or API token (401 {short})"),
            "Check the user name, and create a new API token in Jenkins (your name > Security > API Token)",
        ),
        403 if text.contains("crumb") => UserError::new(
            what,
            "Jenkins refused the request without a valid CSRF crumb (403 No valid crumb was included in the request)",
            "Slipway asks for a crumb first; check that the crumb issuer is reachable and that a proxy keeps the session cookie",
        ),
        403 => UserError::new(what, format!("Jenkins refused access to {target} (403 {short})"), "Ask a Jenkins admin for the Job/Read (and Job/Build to start builds) permission"),
        404 => UserError::new(what, format!("{target} does not exist on this Jenkins (404)"), "Check the job name (folders as folder/job) and the build number"),
        s => UserError::new(what, format!("Jenkins answered {s} {short}"), "Jenkins may be restarting or overloaded; try again later"),
    }
}

/// The URL path of a job: `folder/app` is `/job/folder/job/app`.
pub fn job_path(name: &str) -> Result<String, UserError> {
    let parts: Vec<&str> = name.trim().trim_matches('/').split('/').collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || *p == ".." || *p == ".")
    {
        return Err(UserError::new(
            "Job name not valid",
            format!("'{name}' is not a job name"),
            "Give the job's name, with folders as folder/job",
        ));
    }
    Ok(parts.iter().map(|p| format!("/job/{}", enc(p))).collect())
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Normalizes the server URL (trailing slash trimmed; http or https only).
pub fn normalize_url(url: &str) -> Result<String, UserError> {
    let u = url.trim().trim_end_matches('/');
    let ok = (u.starts_with("http://") || u.starts_with("https://"))
        && u.split("://")
            .nth(1)
            .is_some_and(|h| !h.is_empty() && !h.contains(char::is_whitespace));
    if !ok {
        return Err(UserError::new(
            "Jenkins address not valid",
            format!("'{url}' is not an http(s) URL"),
            "Enter the address you open Jenkins at, such as https://jenkins.example.com",
        ));
    }
    Ok(u.to_string())
}

impl Jenkins {
    pub fn new(url: &str, user: &str, token: &Secret) -> Result<Self, UserError> {
        let base = normalize_url(url)?;
        if user.trim().is_empty() {
            return Err(UserError::new(
                "Jenkins user missing",
                "no user name was given",
                "Enter the Jenkins user the API token belongs to",
            ));
        }
        if token.expose().trim().is_empty() {
            return Err(UserError::new(
                "Jenkins API token missing",
                "the token is empty",
                "Create an API token in Jenkins (your name > Security > API Token) and paste it",
            ));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| {
                UserError::new("Jenkins client not created", e.to_string(), "Try again")
            })?;
        Ok(Self {
            http,
            base,
            user: user.trim().to_string(),
            token: token.clone(),
        })
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    async fn get(
        &self,
        path: &str,
        what: &str,
        target: &str,
    ) -> Result<reqwest::Response, UserError> {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .basic_auth(&self.user, Some(self.token.expose()))
            .send()
            .await
            .map_err(|e| {
                UserError::new(
                    what,
                    format!("cannot reach {}: {}", self.base, error_chain(&e)),
                    "Check the Jenkins address and your network",
                )
            })?;
        if !resp.status().is_success() {
            let status = resp.status().as_u16();
            let body = resp.text().await.unwrap_or_default();
            return Err(refusal(what, target, status, &body));
        }
        Ok(resp)
    }

    async fn json(
        &self,
        path: &str,
        what: &str,
        target: &str,
    ) -> Result<(serde_json::Value, reqwest::header::HeaderMap), UserError> {
        let resp = self.get(path, what, target).await?;
        let headers = resp.headers().clone();
        let v = resp.json::<serde_json::Value>().await.map_err(|e| {
            UserError::new(
                what,
                format!("{} did not answer JSON: {e}", self.base),
                "Check that the address is Jenkins itself, not a login page or proxy",
            )
        })?;
        Ok((v, headers))
    }

    /// Checks the address, user and token: `GET /api/json`, and the `X-Jenkins` version.
    pub async fn check(&self) -> Result<JenkinsServer, UserError> {
        let what = "Jenkins check failed";
        let (v, h) = self
            .json("/api/json?tree=jobs[name]", what, "the server")
            .await?;
        let version = h
            .get("x-jenkins")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if version.is_none() && v.get("jobs").is_none() {
            return Err(UserError::new(
                what,
                format!(
                    "{} does not look like Jenkins (no X-Jenkins header)",
                    self.base
                ),
                "Check the Jenkins address",
            ));
        }
        Ok(JenkinsServer {
            url: self.base.clone(),
            user: self.user.clone(),
            version,
            jobs: v["jobs"].as_array().map(|a| a.len() as u32).unwrap_or(0),
        })
    }

    /// The jobs at the top, or in a folder.
    pub async fn jobs(&self, folder: Option<&str>) -> Result<Vec<JenkinsJob>, UserError> {
        let what = "Could not list the Jenkins jobs";
        let prefix = match folder.filter(|f| !f.trim().is_empty()) {
            Some(f) => job_path(f)?,
            None => String::new(),
        };
        let (v, _) = self
            .json(
                &format!("{prefix}/api/json?tree=jobs[name,url,color,lastBuild[number]]"),
                what,
                folder.unwrap_or("the server"),
            )
            .await?;
        Ok(v["jobs"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|j| JenkinsJob {
                        name: j["name"].as_str().unwrap_or_default().to_string(),
                        url: j["url"].as_str().unwrap_or_default().to_string(),
                        color: j["color"].as_str().map(str::to_string),
                        last_build: j["lastBuild"]["number"].as_u64().map(|n| n as u32),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// A job's most recent builds, newest first.
    pub async fn builds(&self, job: &str, limit: u32) -> Result<Vec<JenkinsBuild>, UserError> {
        let what = "Could not list the builds";
        let p = job_path(job)?;
        let (v, _) = self.json(&format!("{p}/api/json?tree=builds[number,result,building,timestamp,duration,url]{{0,{}}}", limit.clamp(1, 100)), what, &format!("job {job}")).await?;
        Ok(v["builds"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|b| JenkinsBuild {
                        number: b["number"].as_u64().unwrap_or_default() as u32,
                        result: b["result"].as_str().map(str::to_string),
                        building: b["building"].as_bool().unwrap_or(false),
                        timestamp: b["timestamp"].as_i64().unwrap_or_default(),
                        duration_ms: b["duration"].as_i64().unwrap_or_default(),
                        url: b["url"].as_str().unwrap_or_default().to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The stage view of a Pipeline build (the Pipeline Stage View plugin's `wfapi/describe`).
    pub async fn stages(&self, job: &str, number: u32) -> Result<JenkinsStageView, UserError> {
        let what = "Could not read the pipeline's stages";
        let p = job_path(job)?;
        let (v, _) = self
            .json(
                &format!("{p}/{number}/wfapi/describe"),
                what,
                &format!("build {job} #{number} (or its stage view: is it a Pipeline job?)"),
            )
            .await?;
        let s = |x: &serde_json::Value, k: &str| x[k].as_str().unwrap_or_default().to_string();
        Ok(JenkinsStageView {
            id: s(&v, "id"),
            name: s(&v, "name"),
            status: s(&v, "status"),
            stages: v["stages"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|st| JenkinsStage {
                            id: s(st, "id"),
                            name: s(st, "name"),
                            status: s(st, "status"),
                            start_time_ms: st["startTimeMillis"].as_i64().unwrap_or_default(),
                            duration_ms: st["durationMillis"].as_i64().unwrap_or_default(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    /// The console log from byte `start` (`logText/progressiveText`), at most
    /// [`CONSOLE_CHUNK_LIMIT`] bytes of it: Jenkins sends everything from `start` in one answer,
    /// so a long log is read as it arrives and the read stops at the limit (at the last whole
    /// line); the chunk then ends there (`next_offset`) and says there is more.
    pub async fn log(&self, job: &str, number: u32, start: u64) -> Result<ConsoleChunk, UserError> {
        Ok(self.log_piece(job, number, start, CONSOLE_CHUNK_LIMIT).await?.0)
    }

    /// [`Jenkins::log`] and whether the read stopped at `limit` (more is there already).
    pub async fn log_piece(&self, job: &str, number: u32, start: u64, limit: usize) -> Result<(ConsoleChunk, bool), UserError> {
        let what = "Could not read the console log";
        let p = job_path(job)?;
        let mut resp = self
            .get(
                &format!("{p}/{number}/logText/progressiveText?start={start}"),
                what,
                &format!("build {job} #{number}"),
            )
            .await?;
        let h = resp.headers().clone();
        let more = h.get("x-more-data").and_then(|v| v.to_str().ok()) == Some("true");
        let mut buf: Vec<u8> = Vec::new();
        let mut cut = false;
        while let Some(bytes) = resp
            .chunk()
            .await
            .map_err(|e| UserError::new(what, error_chain(&e), "Try again"))?
        {
            buf.extend_from_slice(&bytes);
            if buf.len() >= limit {
                cut = true;
                break;
            }
        }
        if cut {
            // End at the last whole line within the limit, else at a character boundary.
            let mut end = buf[..limit].iter().rposition(|b| *b == b'\n').map(|i| i + 1).unwrap_or(limit);
            if end == limit {
                end = match std::str::from_utf8(&buf[..limit]) {
                    Ok(_) => limit,
                    Err(e) => e.valid_up_to().max(1),
                };
            }
            buf.truncate(end);
            drop(resp); // the rest is read from the new offset
            let next_offset = start + buf.len() as u64;
            return Ok((ConsoleChunk { text: String::from_utf8_lossy(&buf).into_owned(), next_offset, more: true }, true));
        }
        let next_offset = h
            .get("x-text-size")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(start + buf.len() as u64);
        Ok((ConsoleChunk { text: String::from_utf8_lossy(&buf).into_owned(), next_offset, more }, false))
    }

    /// Reads the console log from `start` to where it ends now, a chunk at a time (memory stays
    /// at one chunk whatever the log's size). Returns the offset reached.
    pub async fn read_log(
        &self,
        job: &str,
        number: u32,
        start: u64,
        on_chunk: &mut (dyn FnMut(&ConsoleChunk) + Send),
    ) -> Result<u64, UserError> {
        let mut offset = start;
        loop {
            let (c, cut) = self.log_piece(job, number, offset, CONSOLE_CHUNK_LIMIT).await?;
            offset = c.next_offset;
            on_chunk(&c);
            if !cut {
                return Ok(offset);
            }
        }
    }

    /// Streams the console log from `start` until the build stops writing (or `cancel`),
    /// handing each new piece to `on_chunk`. Returns the final offset.
    pub async fn follow_log(
        &self,
        job: &str,
        number: u32,
        start: u64,
        every: Duration,
        cancel: &CancellationToken,
        on_chunk: &mut (dyn FnMut(&ConsoleChunk) + Send),
    ) -> Result<u64, UserError> {
        let mut offset = start;
        loop {
            let (c, cut) = self.log_piece(job, number, offset, CONSOLE_CHUNK_LIMIT).await?;
            offset = c.next_offset;
            if !c.text.is_empty() || !c.more {
                on_chunk(&c);
            }
            if cut {
                continue; // the rest is there already
            }
            if !c.more {
                return Ok(offset);
            }
            tokio::select! {
                _ = cancel.cancelled() => return Ok(offset),
                _ = tokio::time::sleep(every) => {}
            }
        }
    }

    /// Starts a build: asks the crumb issuer for a crumb (none when CSRF protection is off),
    /// then POSTs `build` with it and the session cookie it belongs to. Returns the queue item
    /// URL Jenkins answers in `Location`.
    pub async fn build(&self, job: &str) -> Result<Option<String>, UserError> {
        let what = "Could not start the Jenkins build";
        let p = job_path(job)?;
        let unreachable = |e: reqwest::Error| {
            UserError::new(
                what,
                format!("cannot reach {}: {}", self.base, error_chain(&e)),
                "Check the Jenkins address and your network",
            )
        };
        let crumb_resp = self
            .http
            .get(format!("{}/crumbIssuer/api/json", self.base))
            .basic_auth(&self.user, Some(self.token.expose()))
            .send()
            .await
            .map_err(unreachable)?;
        let mut req = self
            .http
            .post(format!("{}{p}/build", self.base))
            .basic_auth(&self.user, Some(self.token.expose()));
        match crumb_resp.status().as_u16() {
            200 => {
                let cookies: Vec<String> = crumb_resp
                    .headers()
                    .get_all(reqwest::header::SET_COOKIE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .filter_map(|c| c.split(';').next().map(str::to_string))
                    .collect();
                let v: serde_json::Value = crumb_resp.json().await.map_err(|e| {
                    UserError::new(
                        what,
                        format!("the crumb issuer did not answer JSON: {e}"),
                        "Check the Jenkins address",
                    )
                })?;
                let field = v["crumbRequestField"]
                    .as_str()
                    .unwrap_or("Jenkins-Crumb")
                    .to_string();
                let crumb = v["crumb"].as_str().unwrap_or_default().to_string();
                req = req.header(field, crumb);
                if !cookies.is_empty() {
                    req = req.header(reqwest::header::COOKIE, cookies.join("; "));
                }
            }
            // No crumb issuer: CSRF protection is off, a plain POST is fine.
            404 => {}
            s => {
                let body = crumb_resp.text().await.unwrap_or_default();
                return Err(refusal(what, "the crumb issuer", s, &body));
            }
        }
        let resp = req.send().await.map_err(unreachable)?;
        let status = resp.status().as_u16();
        if status == 201 || status == 200 {
            return Ok(resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string));
        }
        let body = resp.text().await.unwrap_or_default();
        if status == 400 && body.contains("is parameterized") {
            return Err(UserError::new(what, format!("job {job} takes parameters"), "Start it from Jenkins with its parameters (parameterized builds are not supported yet)"));
        }
        Err(refusal(what, &format!("job {job}"), status, &body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_paths_and_urls() {
        assert_eq!(job_path("app").unwrap(), "/job/app");
        assert_eq!(
            job_path("team/app build").unwrap(),
            "/job/team/job/app%20build"
        );
        assert!(job_path("../x").is_err());
        assert!(job_path("").is_err());
        assert_eq!(
            normalize_url("https://ci.example.com/").unwrap(),
            "https://ci.example.com"
        );
        assert!(normalize_url("ci.example.com").is_err());
        assert!(Jenkins::new("http://ci", "", &Secret::new("t")).is_err());
        assert!(Jenkins::new("http://ci", "u", &Secret::new(" ")).is_err());
    }

    #[test]
    fn crumb_refusals_are_named() {
        let body = "<html><head><title>Error 403 No valid crumb was included in the request</title></head><body><h2>HTTP ERROR 403 No valid crumb was included in the request</h2></body></html>";
        let e = refusal("Could not start the Jenkins build", "job app", 403, body);
        assert!(e.why.contains("CSRF crumb"), "{e}");
        let e = refusal(
            "x",
            "job app",
            403,
            "<html><head><title>Access Denied</title></head></html>",
        );
        assert!(
            e.why.contains("403 Access Denied") && !e.why.contains("crumb"),
            "{e}"
        );
    }
}
