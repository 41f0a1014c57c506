//! ECR: one repository per service of the project, scanning images on push and keeping the
//! newest N (a lifecycle policy). Physical id: the repository name (`<project>-<service>`).
//! ECR lists repositories without tags, so listing reads the tags of the repositories whose
//! names start with `<project>-`.

use aws_sdk_ecr::types::{ImageScanningConfiguration, Repository, Tag};
use serde_json::{json, Value};
use slipway_core::provision::{CreateCtx, Created, Observed, ProvisionError, ResourceKind, ResourceSpec};

use super::fault::{self, About};
use super::{about, about_obs, observed, our_tags, prop_bool, tagged, AwsDriver, Tags};

fn tags(ts: &[Tag]) -> Tags {
    ts.iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()
}

fn scan_on_push(r: &Repository) -> bool {
    r.image_scanning_configuration().is_some_and(|c| c.scan_on_push())
}

fn repo_obs(r: &Repository, t: &Tags, lifecycle: Option<Value>) -> Observed {
    observed(
        ResourceKind::EcrRepository,
        r.repository_name().unwrap_or_default(),
        "available",
        true,
        false,
        json!({
            "uri": r.repository_uri(),
            "arn": r.repository_arn(),
            "scanOnPush": scan_on_push(r),
            "lifecyclePolicy": lifecycle,
        }),
        t,
    )
}

impl AwsDriver {
    async fn repository(&self, a: About<'_>, name: &str) -> Result<Option<Repository>, ProvisionError> {
        let out = fault::found(a, self.ecr.describe_repositories().repository_names(name).send().await)?;
        Ok(out.and_then(|o| o.repositories().first().cloned()))
    }

    async fn repository_tags(&self, a: About<'_>, r: &Repository) -> Result<Tags, ProvisionError> {
        let out = fault::found(a, self.ecr.list_tags_for_resource().resource_arn(r.repository_arn().unwrap_or_default()).send().await)?;
        Ok(out.map(|o| tags(o.tags())).unwrap_or_default())
    }

    /// The repository's lifecycle policy as JSON; None when it has none.
    async fn lifecycle_policy(&self, a: About<'_>, name: &str) -> Result<Option<Value>, ProvisionError> {
        // None for LifecyclePolicyNotFoundException and RepositoryNotFoundException.
        let out = fault::found(a, self.ecr.get_lifecycle_policy().repository_name(name).send().await)?;
        Ok(out.and_then(|o| o.lifecycle_policy_text().and_then(|t| serde_json::from_str(t).ok())))
    }

    /// The repository with its tags and lifecycle policy, as the executor sees it.
    async fn repository_observed(&self, a: About<'_>, r: &Repository) -> Result<(Observed, Tags), ProvisionError> {
        let t = self.repository_tags(a, r).await?;
        let lifecycle = self.lifecycle_policy(a, r.repository_name().unwrap_or_default()).await?;
        Ok((repo_obs(r, &t, lifecycle), t))
    }

    /// Scan on push and the lifecycle policy as the spec asks (the follow-up steps of a create,
    /// and the whole of an update).
    async fn converge_repository(&self, spec: &ResourceSpec, r: &Repository) -> Result<Observed, ProvisionError> {
        let a = about(spec);
        let name = r.repository_name().unwrap_or_default();
        let scan = prop_bool(spec, "scanOnPush", true);
        if scan_on_push(r) != scan {
            self.ecr
                .put_image_scanning_configuration()
                .repository_name(name)
                .image_scanning_configuration(ImageScanningConfiguration::builder().scan_on_push(scan).build())
                .send()
                .await
                .map_err(|e| fault::map(a, &e))?;
        }
        let want = &spec.props["lifecyclePolicy"];
        let have = self.lifecycle_policy(a, name).await?;
        if want.is_object() && have.as_ref() != Some(want) {
            self.ecr
                .put_lifecycle_policy()
                .repository_name(name)
                .lifecycle_policy_text(want.to_string())
                .send()
                .await
                .map_err(|e| fault::map(a, &e))?;
        }
        let r = self.repository(a, name).await?.ok_or_else(|| a.fatal(format!("{name} disappeared")))?;
        Ok(self.repository_observed(a, &r).await?.0)
    }

    /// The repository by name and tags; one without its scan setting or lifecycle policy is not
    /// finished and is reported as not found (the executor then calls `create`, which finishes it).
    pub(crate) async fn ecr_find(&self, project: &str, spec: &ResourceSpec) -> Result<Option<Observed>, ProvisionError> {
        let a = about(spec);
        let Some(r) = self.repository(a, &spec.name).await? else { return Ok(None) };
        let (o, t) = self.repository_observed(a, &r).await?;
        let finished = o.attrs["scanOnPush"] == spec.props["scanOnPush"] && (spec.props["lifecyclePolicy"].is_null() || o.attrs["lifecyclePolicy"] == spec.props["lifecyclePolicy"]);
        Ok((tagged(&t, project, Some(&spec.id)) && finished).then_some(o))
    }

    pub(crate) async fn ecr_describe(&self, name: &str) -> Result<Option<Observed>, ProvisionError> {
        let a = About { kind: ResourceKind::EcrRepository, name };
        match self.repository(a, name).await? {
            Some(r) => Ok(Some(self.repository_observed(a, &r).await?.0)),
            None => Ok(None),
        }
    }

    pub(crate) async fn ecr_list(&self, project: &str) -> Result<Vec<Observed>, ProvisionError> {
        let a = About { kind: ResourceKind::EcrRepository, name: "(listing)" };
        let repos: Vec<Repository> =
            self.ecr.describe_repositories().into_paginator().items().send().try_collect().await.map_err(|e| fault::map(a, &e))?;
        let prefix = format!("{project}-");
        let mut out = vec![];
        for r in repos.iter().filter(|r| r.repository_name().is_some_and(|n| n.starts_with(&prefix))) {
            let (o, t) = self.repository_observed(a, r).await?;
            if tagged(&t, project, None) {
                out.push(o);
            }
        }
        Ok(out)
    }

    pub(crate) async fn ecr_create(&self, spec: &ResourceSpec, ctx: &CreateCtx<'_>) -> Result<Created, ProvisionError> {
        let a = about(spec);
        let p = ctx.project;
        let name = spec.name.as_str();
        let not_ours = || a.fatal(format!("an ECR repository named {name} already exists and is not tagged for project {p}"));
        let repo = match self.repository(a, name).await? {
            Some(r) if tagged(&self.repository_tags(a, &r).await?, p, Some(&spec.id)) => r,
            Some(_) => return Err(not_ours()),
            None => {
                let mut req = self
                    .ecr
                    .create_repository()
                    .repository_name(name)
                    .image_scanning_configuration(ImageScanningConfiguration::builder().scan_on_push(prop_bool(spec, "scanOnPush", true)).build());
                for (k, v) in our_tags(p, spec) {
                    req = req.tags(Tag::builder().key(k).value(v).build().map_err(|e| a.fatal(e))?);
                }
                let out = req.send().await.map_err(|e| match fault::code(&e) {
                    Some("RepositoryAlreadyExistsException") => not_ours(),
                    _ => fault::map(a, &e),
                })?;
                out.repository().cloned().ok_or_else(|| a.fatal("CreateRepository returned no repository"))?
            }
        };
        let mut obs = self.converge_repository(spec, &repo).await?;
        obs.logical_id = Some(spec.id.clone());
        Ok(Created { observed: obs, secret: None })
    }

    /// Scan on push and the lifecycle policy, in place.
    pub(crate) async fn ecr_update(&self, spec: &ResourceSpec, current: &Observed) -> Result<Observed, ProvisionError> {
        let a = about(spec);
        let r = self.repository(a, &current.physical_id).await?.ok_or_else(|| a.fatal(format!("{} is gone", current.physical_id)))?;
        self.converge_repository(spec, &r).await
    }

    /// Deletes the repository with every image in it (`force`).
    pub(crate) async fn ecr_delete(&self, o: &Observed) -> Result<(), ProvisionError> {
        let a = about_obs(o);
        fault::gone(a, self.ecr.delete_repository().repository_name(&o.physical_id).force(true).send().await)
    }
}
