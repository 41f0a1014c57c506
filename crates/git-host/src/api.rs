//! GitHub's REST API beyond the identity check: the repositories a token can see (its own,
//! collaborations and its organisations'), their branches and recent commits, commit statuses,
//! GitHub Actions workflow runs, jobs, steps and logs, and a branch head read with an ETag.
//! Every answer updates the rate limit GitHub reported; every refusal becomes a [`UserError`]
//! that says which of revoked token, no access, rate limit or secondary rate limit it was.

use slipway_core::integrations::*;
use slipway_core::secrets::Secret;
use slipway_core::{error_chain, UserError};
use std::sync::Mutex;
use std::time::Duration;

use crate::normalize_base_url;

/// A GitHub API client for one token.
pub struct GitHubApi {
    oc: octocrab::Octocrab,
    base: String,
    rate: Mutex<Option<RateLimit>>,
}

/// A raw answer: status, the headers we use, and the body.
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn json(&self, what: &str) -> Result<serde_json::Value, UserError> {
        serde_json::from_str(&self.body).map_err(|e| {
            UserError::new(
                what,
                format!("GitHub did not answer JSON: {e}"),
                "Check the GitHub Enterprise URL",
            )
        })
    }
}

/// The rate limit from `x-ratelimit-*` headers, when they are there.
pub fn rate_limit(h: &http::HeaderMap) -> Option<RateLimit> {
    let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok());
    let num = |n: &str| get(n).and_then(|v| v.trim().parse::<i64>().ok());
    Some(RateLimit {
        limit: num("x-ratelimit-limit")? as u32,
        remaining: num("x-ratelimit-remaining")? as u32,
        reset: num("x-ratelimit-reset").unwrap_or(0),
        used: num("x-ratelimit-used").unwrap_or(0) as u32,
        resource: get("x-ratelimit-resource").unwrap_or("core").to_string(),
    })
}

/// The page numbers of `rel="next"` and `rel="last"` in a `Link` header.
pub fn link_pages(link: Option<&str>) -> (Option<u32>, Option<u32>) {
    let (mut next, mut last) = (None, None);
    for part in link.unwrap_or_default().split(',') {
        let Some((url, rel)) = part.split_once(';') else {
            continue;
        };
        let url = url.trim().trim_start_matches('<').trim_end_matches('>');
        let page = url
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or_default()
            .split('&')
            .find_map(|kv| kv.strip_prefix("page="))
            .and_then(|p| p.parse::<u32>().ok());
        if rel.contains("rel=\"next\"") {
            next = page;
        } else if rel.contains("rel=\"last\"") {
            last = page;
        }
    }
    (next, last)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Checks `owner/name`.
pub fn split_repo(repo: &str) -> Result<(&str, &str), UserError> {
    // `.` and `..` would walk GitHub's API paths (`repos/../..`).
    let ok = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    match repo.trim().split_once('/') {
        Some((o, n)) if ok(o) && ok(n) => Ok((o, n)),
        _ => Err(UserError::new(
            "Repository name not valid",
            format!("'{repo}' is not owner/name"),
            "Write it as owner/name, e.g. octocat/hello-world",
        )),
    }
}

/// Encodes a path segment or query value (branch names may hold `/`, `#`, spaces...).
pub fn enc(s: &str) -> String {
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

/// Maps a refused answer to what the person sees. `target` names what was asked for (a
/// repository, a branch...) so a 404 can say which one.
pub fn refusal(what: &str, target: &str, a: &Answer) -> UserError {
    let message = serde_json::from_str::<serde_json::Value>(&a.body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string))
        .unwrap_or_default();
    let status = a.status;
    let remaining = a.header("x-ratelimit-remaining");
    let retry_after = a
        .header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok());
    let secondary = message.to_lowercase().contains("secondary rate limit");
    match status {
        401 => UserError::new(
            what,
            format!("GitHub rejected the token (401 {message}): it is wrong, revoked or expired"),
            "Create a new token on GitHub (Settings > Developer settings > Personal access tokens) and connect GitHub again",
        ),
        403 | 429 if secondary || (retry_after.is_some() && remaining != Some("0")) => UserError::new(
            what,
            format!("GitHub's secondary rate limit was hit ({status}: too many requests in a short time)"),
            format!("Wait {} seconds, then try again; Slipway slows its polling by itself", retry_after.unwrap_or(60)),
        ),
        403 | 429 if remaining == Some("0") => {
            let reset = a.header("x-ratelimit-reset").and_then(|r| r.parse::<i64>().ok());
            let when = reset.map(|r| format!("; it resets in {} minutes (unix time {r})", ((r - unix_now()).max(0) + 59) / 60)).unwrap_or_default();
            UserError::new(what, format!("GitHub's rate limit is used up ({status}){when}"), "Wait until the limit resets, then try again")
        }
        403 => UserError::new(
            what,
            format!("GitHub refused access to {target} (403 {message})"),
            "Check the token's scopes (repo, and workflow for Actions) and any organisation SSO authorisation",
        ),
        404 => UserError::new(
            what,
            format!("{target} was not found, or the token has no access to it (404)"),
            "Check the name, and that the token may read this repository (a private repository needs the repo scope)",
        ),
        422 => UserError::new(what, format!("GitHub refused the request (422 {message})"), "Check the values sent"),
        s => UserError::new(what, format!("GitHub answered {s} {message}"), "GitHub may be having trouble; try again later"),
    }
}

fn repo_of(v: &serde_json::Value) -> GhRepo {
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    GhRepo {
        full_name: s("full_name"),
        owner: v["owner"]["login"].as_str().unwrap_or_default().to_string(),
        name: s("name"),
        private: v["private"].as_bool().unwrap_or(false),
        default_branch: s("default_branch"),
        html_url: s("html_url"),
        clone_url: s("clone_url"),
        description: v["description"].as_str().map(str::to_string),
        pushed_at: v["pushed_at"].as_str().map(str::to_string),
    }
}

fn commit_of(v: &serde_json::Value) -> GhCommit {
    let c = &v["commit"];
    GhCommit {
        sha: v["sha"].as_str().unwrap_or_default().to_string(),
        message: c["message"]
            .as_str()
            .unwrap_or_default()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string(),
        author: v["author"]["login"]
            .as_str()
            .or(c["author"]["name"].as_str())
            .unwrap_or_default()
            .to_string(),
        date: c["author"]["date"].as_str().map(str::to_string),
        html_url: v["html_url"].as_str().unwrap_or_default().to_string(),
    }
}

/// What a conditional read of a branch head found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Head {
    /// 304: nothing changed since the ETag (and it did not count against the rate limit).
    NotModified,
    Sha {
        sha: String,
        etag: Option<String>,
    },
}

impl GitHubApi {
    pub fn new(base_url: &str, token: &Secret) -> Result<Self, UserError> {
        let what = "GitHub connection failed";
        let base = normalize_base_url(Some(base_url))?;
        let t = token.expose().trim();
        if t.is_empty() || t.chars().any(|c| c.is_whitespace() || c.is_control()) || !t.is_ascii() {
            return Err(UserError::new(
                what,
                "the token is empty or malformed",
                "Connect GitHub again with a personal access token",
            ));
        }
        let oc = octocrab::Octocrab::builder()
            .base_uri(base.clone())
            .map_err(|e| {
                UserError::new(
                    what,
                    format!("'{base}' is not usable: {e}"),
                    "Check the GitHub Enterprise URL",
                )
            })?
            .personal_token(t.to_string())
            .set_connect_timeout(Some(Duration::from_secs(5)))
            .set_read_timeout(Some(Duration::from_secs(30)))
            .build()
            .map_err(|e| UserError::new(what, e.to_string(), "Try again"))?;
        Ok(Self {
            oc,
            base,
            rate: Mutex::new(None),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The rate limit GitHub reported with its last answer.
    pub fn rate(&self) -> Option<RateLimit> {
        self.rate.lock().expect("rate lock").clone()
    }

    /// Sends one request (`path` starts with `/`) and keeps the rate limit it reports.
    pub async fn send(
        &self,
        method: http::Method,
        path: &str,
        body: Option<&serde_json::Value>,
        etag: Option<&str>,
        what: &str,
    ) -> Result<Answer, UserError> {
        Ok(self.send_limited(method, path, body, etag, what, ANSWER_LIMIT, false).await?.0)
    }

    /// [`GitHubApi::send`] reading at most `limit` bytes of the answer into memory: its start,
    /// or with `tail` its end (a log's failure is at the end). Returns how many bytes were left
    /// out.
    #[allow(clippy::too_many_arguments)]
    async fn send_limited(
        &self,
        method: http::Method,
        path: &str,
        body: Option<&serde_json::Value>,
        etag: Option<&str>,
        what: &str,
        limit: usize,
        tail: bool,
    ) -> Result<(Answer, u64), UserError> {
        let url = format!("{}{path}", self.base);
        let unreachable = |e: octocrab::Error| {
            UserError::new(
                what,
                format!("cannot reach {}: {}", self.base, error_chain(&e)),
                "Check your network, and the GitHub Enterprise URL if you set one",
            )
        };
        let resp = if method == http::Method::POST {
            self.oc._post(url, body).await.map_err(unreachable)?
        } else {
            let mut h = http::HeaderMap::new();
            if let Some(tag) = etag.and_then(|t| http::HeaderValue::from_str(t).ok()) {
                h.insert(http::header::IF_NONE_MATCH, tag);
            }
            self.oc
                ._get_with_headers(url, Some(h))
                .await
                .map_err(unreachable)?
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        if let Some(r) = rate_limit(&headers) {
            *self.rate.lock().expect("rate lock") = Some(r);
        }
        let (body, left_out) = read_limited(resp.into_body(), limit, tail).await;
        Ok((
            Answer {
                status,
                headers,
                body,
            },
            left_out,
        ))
    }

    async fn get_ok(&self, path: &str, target: &str, what: &str) -> Result<Answer, UserError> {
        let a = self.send(http::Method::GET, path, None, None, what).await?;
        if a.status != 200 {
            return Err(refusal(what, target, &a));
        }
        Ok(a)
    }

    fn page<T>(&self, a: &Answer, items: Vec<T>) -> Page<T> {
        let (next_page, last_page) = link_pages(a.header("link"));
        Page {
            items,
            next_page,
            last_page,
            rate: self.rate(),
        }
    }

    /// One page of the repositories the token can see: its own, those it collaborates on, and
    /// its organisations', most recently pushed first.
    pub async fn repos(&self, page: u32, per_page: u32) -> Result<Page<GhRepo>, UserError> {
        let what = "Could not list GitHub repositories";
        let path = format!("/user/repos?affiliation=owner,collaborator,organization_member&sort=pushed&per_page={}&page={}", per_page.clamp(1, 100), page.max(1));
        let a = self.get_ok(&path, "the repository list", what).await?;
        let v = a.json(what)?;
        let items = v
            .as_array()
            .map(|a| a.iter().map(repo_of).collect())
            .unwrap_or_default();
        Ok(self.page(&a, items))
    }

    /// The repositories whose name or description holds `query` (any case), walking every page
    /// of [`GitHubApi::repos`] up to `max_pages`. Private and organisation repositories are
    /// included, which GitHub's search endpoint does not promise for every token.
    pub async fn search_repos(
        &self,
        query: &str,
        max_pages: u32,
    ) -> Result<Page<GhRepo>, UserError> {
        let q = query.trim().to_lowercase();
        let mut found = Vec::new();
        let mut page = 1;
        loop {
            let p = self.repos(page, 100).await?;
            found.extend(p.items.into_iter().filter(|r| {
                r.full_name.to_lowercase().contains(&q)
                    || r.description
                        .as_deref()
                        .unwrap_or_default()
                        .to_lowercase()
                        .contains(&q)
            }));
            match p.next_page {
                Some(n) if n > page && page < max_pages => page = n,
                _ => break,
            }
        }
        Ok(Page {
            items: found,
            next_page: None,
            last_page: None,
            rate: self.rate(),
        })
    }

    pub async fn branches(&self, repo: &str, page: u32) -> Result<Page<GhBranch>, UserError> {
        let what = "Could not list the branches";
        let (o, n) = split_repo(repo)?;
        let a = self
            .get_ok(
                &format!("/repos/{o}/{n}/branches?per_page=100&page={}", page.max(1)),
                &format!("repository {repo}"),
                what,
            )
            .await?;
        let v = a.json(what)?;
        let items = v
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|b| GhBranch {
                        name: b["name"].as_str().unwrap_or_default().to_string(),
                        sha: b["commit"]["sha"].as_str().unwrap_or_default().to_string(),
                        protected: b["protected"].as_bool().unwrap_or(false),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(self.page(&a, items))
    }

    /// The most recent commits of a branch (or any ref).
    pub async fn commits(
        &self,
        repo: &str,
        branch: &str,
        per_page: u32,
    ) -> Result<Page<GhCommit>, UserError> {
        let what = "Could not list the commits";
        let (o, n) = split_repo(repo)?;
        let path = format!(
            "/repos/{o}/{n}/commits?sha={}&per_page={}",
            enc(branch),
            per_page.clamp(1, 100)
        );
        let a = self
            .get_ok(&path, &format!("branch {branch} of {repo}"), what)
            .await?;
        let v = a.json(what)?;
        let items = v
            .as_array()
            .map(|a| a.iter().map(commit_of).collect())
            .unwrap_or_default();
        Ok(self.page(&a, items))
    }

    /// The head commit of a branch, read with `If-None-Match` when an ETag is known: a 304
    /// costs nothing against the rate limit.
    pub async fn head(
        &self,
        repo: &str,
        branch: &str,
        etag: Option<&str>,
    ) -> Result<Head, UserError> {
        let what = "Could not read the branch";
        let (o, n) = split_repo(repo)?;
        let a = self
            .send(
                http::Method::GET,
                &format!("/repos/{o}/{n}/branches/{}", enc(branch)),
                None,
                etag,
                what,
            )
            .await?;
        match a.status {
            304 => Ok(Head::NotModified),
            200 => {
                let v = a.json(what)?;
                let sha = v["commit"]["sha"].as_str().unwrap_or_default().to_string();
                if sha.is_empty() {
                    return Err(UserError::new(
                        what,
                        "GitHub answered without a commit",
                        "Try again",
                    ));
                }
                Ok(Head::Sha {
                    sha,
                    etag: a.header("etag").map(str::to_string),
                })
            }
            _ => Err(refusal(what, &format!("branch {branch} of {repo}"), &a)),
        }
    }

    /// Reports a run on a commit: pending, success, failure or error, with a link.
    pub async fn set_status(
        &self,
        repo: &str,
        sha: &str,
        state: CommitState,
        target_url: Option<&str>,
        description: &str,
        context: &str,
    ) -> Result<(), UserError> {
        let what = "Could not report the run to GitHub";
        let (o, n) = split_repo(repo)?;
        if sha.len() < 7 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(UserError::new(
                what,
                format!("'{sha}' is not a commit id"),
                "Give the full commit SHA",
            ));
        }
        let mut body = serde_json::json!({"state": state.as_str(), "description": description.chars().take(140).collect::<String>(), "context": context});
        if let Some(u) = target_url {
            body["target_url"] = u.into();
        }
        let a = self
            .send(
                http::Method::POST,
                &format!("/repos/{o}/{n}/statuses/{sha}"),
                Some(&body),
                None,
                what,
            )
            .await?;
        if a.status != 201 {
            return Err(refusal(what, &format!("commit {sha} of {repo}"), &a));
        }
        Ok(())
    }

    /// The repository's GitHub Actions workflow runs, newest first.
    pub async fn workflow_runs(
        &self,
        repo: &str,
        page: u32,
        per_page: u32,
    ) -> Result<Page<WorkflowRun>, UserError> {
        let what = "Could not list the GitHub Actions runs";
        let (o, n) = split_repo(repo)?;
        let path = format!(
            "/repos/{o}/{n}/actions/runs?per_page={}&page={}",
            per_page.clamp(1, 100),
            page.max(1)
        );
        let a = self
            .get_ok(&path, &format!("repository {repo}"), what)
            .await?;
        let v = a.json(what)?;
        let s = |r: &serde_json::Value, k: &str| r[k].as_str().unwrap_or_default().to_string();
        let items = v["workflow_runs"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|r| WorkflowRun {
                        id: r["id"].as_u64().unwrap_or_default(),
                        name: s(r, "name"),
                        run_number: r["run_number"].as_u64().unwrap_or_default() as u32,
                        event: s(r, "event"),
                        head_branch: r["head_branch"].as_str().map(str::to_string),
                        head_sha: s(r, "head_sha"),
                        status: s(r, "status"),
                        conclusion: r["conclusion"].as_str().map(str::to_string),
                        html_url: s(r, "html_url"),
                        created_at: r["created_at"].as_str().map(str::to_string),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(self.page(&a, items))
    }

    /// The jobs of a workflow run with their steps.
    pub async fn workflow_jobs(
        &self,
        repo: &str,
        run_id: u64,
    ) -> Result<Vec<WorkflowJob>, UserError> {
        let what = "Could not list the workflow run's jobs";
        let (o, n) = split_repo(repo)?;
        let a = self
            .get_ok(
                &format!("/repos/{o}/{n}/actions/runs/{run_id}/jobs?per_page=100"),
                &format!("workflow run {run_id} of {repo}"),
                what,
            )
            .await?;
        let v = a.json(what)?;
        let s = |r: &serde_json::Value, k: &str| r[k].as_str().unwrap_or_default().to_string();
        Ok(v["jobs"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|j| WorkflowJob {
                        id: j["id"].as_u64().unwrap_or_default(),
                        name: s(j, "name"),
                        status: s(j, "status"),
                        conclusion: j["conclusion"].as_str().map(str::to_string),
                        html_url: s(j, "html_url"),
                        steps: j["steps"]
                            .as_array()
                            .map(|st| {
                                st.iter()
                                    .map(|x| WorkflowStep {
                                        number: x["number"].as_u64().unwrap_or_default() as u32,
                                        name: s(x, "name"),
                                        status: s(x, "status"),
                                        conclusion: x["conclusion"].as_str().map(str::to_string),
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// A job's log as plain text (GitHub redirects to a short-lived download URL). It is read
    /// as it arrives and at most its last [`JOB_LOG_LIMIT`] bytes are kept; a longer log starts
    /// with a line saying how much of its beginning was left out and where the whole one is.
    pub async fn job_log(&self, repo: &str, job_id: u64) -> Result<String, UserError> {
        self.job_log_limited(repo, job_id, JOB_LOG_LIMIT).await
    }

    /// [`GitHubApi::job_log`] with another limit (tests).
    pub async fn job_log_limited(&self, repo: &str, job_id: u64, limit: usize) -> Result<String, UserError> {
        let what = "Could not read the job's log";
        let (o, n) = split_repo(repo)?;
        let target = format!("the log of job {job_id} in {repo}");
        let (a, left_out) = self
            .send_limited(http::Method::GET, &format!("/repos/{o}/{n}/actions/jobs/{job_id}/logs"), None, None, what, limit, true)
            .await?;
        if a.status != 200 {
            return Err(refusal(what, &target, &a));
        }
        if left_out == 0 {
            return Ok(a.body);
        }
        Ok(format!(
            "[Slipway: this log is {} bytes; the first {left_out} bytes are left out here and the last {} are shown. The whole log: https://github.com/{o}/{n}/actions/runs (job {job_id}), or `gh run view --job {job_id} --log`]\n{}",
            left_out + a.body.len() as u64,
            a.body.len(),
            a.body
        ))
    }
}

/// The most of an API answer read into memory.
pub const ANSWER_LIMIT: usize = 16 << 20;
/// The most of a job's log kept in memory and shown: its end.
pub const JOB_LOG_LIMIT: usize = 8 << 20;

/// Reads a body as it arrives, keeping at most `limit` bytes: the first ones, or with `tail`
/// the last ones from a line start (memory stays under twice the limit). Returns the text
/// (invalid UTF-8 replaced, as GitHub's logs can hold any bytes) and how many bytes were left out.
async fn read_limited<B>(mut body: B, limit: usize, tail: bool) -> (String, u64)
where
    B: http_body::Body<Data = bytes::Bytes> + Unpin,
{
    use http_body_util::BodyExt;
    let mut buf: Vec<u8> = Vec::new();
    let mut dropped: u64 = 0;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { break };
        let Ok(data) = frame.into_data() else { continue };
        if tail {
            buf.extend_from_slice(&data);
            if buf.len() > 2 * limit {
                let cut = buf.len() - limit;
                buf.drain(..cut);
                dropped += cut as u64;
            }
        } else {
            let room = limit.saturating_sub(buf.len());
            buf.extend_from_slice(&data[..data.len().min(room)]);
            dropped += data.len().saturating_sub(room) as u64;
        }
    }
    if tail && buf.len() > limit {
        let mut cut = buf.len() - limit;
        // Start at a whole line.
        if let Some(nl) = buf[cut..].iter().position(|b| *b == b'\n') {
            cut += nl + 1;
        }
        buf.drain(..cut);
        dropped += cut as u64;
    }
    (String::from_utf8_lossy(&buf).into_owned(), dropped)
}

#[cfg(test)]
mod tests {
    use super::split_repo;

    #[test]
    fn repository_names_with_dot_segments_are_refused() {
        assert_eq!(split_repo("octo/hello-world").unwrap(), ("octo", "hello-world"));
        assert_eq!(split_repo("octo/.github").unwrap(), ("octo", ".github"));
        assert_eq!(split_repo("octo/a..b").unwrap(), ("octo", "a..b"));
        for bad in ["../x", "x/..", "./x", "x/.", "../..", "octo", "octo/a/b", "/x", "o/"] {
            let e = split_repo(bad).unwrap_err();
            assert!(e.why.contains("is not owner/name"), "{bad}: {e}");
        }
    }
}
