//! IAM roles: a trust policy for one service principal and managed policies. Physical id: the
//! role name. IAM lists roles without tags, so listing reads the tags of the roles whose names
//! start with `<project>-` (every name Slipway gives starts so).

use aws_sdk_iam::types::{Role, Tag};
use serde_json::json;
use slipway_core::provision::{CreateCtx, Created, Observed, ProvisionError, ResourceKind, ResourceSpec};

use super::fault::{self, About};
use super::{about, about_obs, observed, our_tags, prop_list, prop_str, tagged, AwsDriver, Tags};

fn tags(ts: &[Tag]) -> Tags {
    ts.iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()
}

fn role_obs(r: &Role) -> Observed {
    observed(ResourceKind::IamRole, r.role_name(), "available", true, false, json!({"arn": r.arn()}), &tags(r.tags()))
}

/// The trust policy letting `service` (eks.amazonaws.com, ec2.amazonaws.com) assume the role.
pub(crate) fn trust_policy(service: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]
    })
    .to_string()
}

impl AwsDriver {
    async fn role(&self, a: About<'_>, name: &str) -> Result<Option<Role>, ProvisionError> {
        match self.iam.get_role().role_name(name).send().await {
            Ok(o) => Ok(o.role().cloned()),
            Err(e) if fault::is_not_found(&e) => Ok(None),
            Err(e) => Err(fault::map(a, &e)),
        }
    }

    /// The role by name and tags; one without all its managed policies is not finished and is
    /// reported as not found (the executor then calls `create`, which attaches the rest).
    pub(crate) async fn iam_find(&self, project: &str, spec: &ResourceSpec) -> Result<Option<Observed>, ProvisionError> {
        let a = about(spec);
        let Some(role) = self.role(a, &spec.name).await?.filter(|r| tagged(&tags(r.tags()), project, Some(&spec.id))) else {
            return Ok(None);
        };
        let attached = self.attached_policies(a, &spec.name).await?;
        let complete = prop_list(spec, "managedPolicies").iter().all(|arn| attached.iter().any(|x| x == arn));
        Ok(complete.then(|| role_obs(&role)))
    }

    async fn attached_policies(&self, a: About<'_>, name: &str) -> Result<Vec<String>, ProvisionError> {
        Ok(self
            .iam
            .list_attached_role_policies()
            .role_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| fault::map(a, &e))?
            .iter()
            .filter_map(|p| p.policy_arn().map(str::to_string))
            .collect())
    }

    pub(crate) async fn iam_describe(&self, name: &str) -> Result<Option<Observed>, ProvisionError> {
        Ok(self.role(About { kind: ResourceKind::IamRole, name }, name).await?.map(|r| role_obs(&r)))
    }

    pub(crate) async fn iam_list(&self, project: &str) -> Result<Vec<Observed>, ProvisionError> {
        let a = About { kind: ResourceKind::IamRole, name: "(listing)" };
        let roles: Vec<Role> = self.iam.list_roles().into_paginator().items().send().try_collect().await.map_err(|e| fault::map(a, &e))?;
        let prefix = format!("{project}-");
        // ListRoles leaves tags out: GetRole has them (one call per role, all at once).
        let full = futures::future::try_join_all(roles.iter().filter(|r| r.role_name().starts_with(&prefix)).map(|r| self.role(a, r.role_name()))).await?;
        Ok(full.into_iter().flatten().filter(|r| tagged(&tags(r.tags()), project, None)).map(|r| role_obs(&r)).collect())
    }

    pub(crate) async fn iam_create(&self, spec: &ResourceSpec, ctx: &CreateCtx<'_>) -> Result<Created, ProvisionError> {
        let a = about(spec);
        let p = ctx.project;
        let name = spec.name.as_str();
        let role = match self.role(a, name).await? {
            Some(r) if tagged(&tags(r.tags()), p, Some(&spec.id)) => r,
            Some(_) => return Err(a.fatal(format!("an IAM role named {name} already exists and is not tagged for project {p}"))),
            None => {
                let mut req = self
                    .iam
                    .create_role()
                    .role_name(name)
                    .assume_role_policy_document(trust_policy(prop_str(spec, "service")?))
                    .description(format!("Slipway project {p}: {}", spec.id));
                for (k, v) in our_tags(p, spec) {
                    req = req.tags(Tag::builder().key(k).value(v).build().map_err(|e| a.fatal(e))?);
                }
                let out = req.send().await.map_err(|e| match fault::code(&e) {
                    Some("EntityAlreadyExists") => a.fatal(format!("an IAM role named {name} already exists and is not tagged for project {p}")),
                    _ => fault::map(a, &e),
                })?;
                out.role().cloned().ok_or_else(|| a.fatal("CreateRole returned no role"))?
            }
        };
        let attached = self.attached_policies(a, name).await?;
        for arn in prop_list(spec, "managedPolicies").into_iter().filter(|arn| !attached.iter().any(|x| x == arn)) {
            self.iam.attach_role_policy().role_name(name).policy_arn(arn).send().await.map_err(|e| match fault::code(&e) {
                Some("NoSuchEntity") => a.fatal(format!("the managed policy {arn} does not exist")),
                _ => fault::map(a, &e),
            })?;
        }
        let mut obs = role_obs(&role);
        obs.logical_id = Some(spec.id.clone());
        Ok(Created { observed: obs, secret: None })
    }

    /// Detaches managed policies, deletes inline ones and leaves instance profiles, then deletes.
    pub(crate) async fn iam_delete(&self, o: &Observed) -> Result<(), ProvisionError> {
        let a = about_obs(o);
        let name = o.physical_id.as_str();
        let attached = match self.iam.list_attached_role_policies().role_name(name).into_paginator().items().send().try_collect().await {
            Ok(v) => v,
            Err(e) if fault::is_not_found(&e) => return Ok(()),
            Err(e) => return Err(fault::map(a, &e)),
        };
        for arn in attached.iter().filter_map(|p| p.policy_arn()) {
            match self.iam.detach_role_policy().role_name(name).policy_arn(arn).send().await {
                Ok(_) => {}
                Err(e) if fault::is_not_found(&e) => {}
                Err(e) => return Err(fault::map(a, &e)),
            }
        }
        let inline: Vec<String> = match self.iam.list_role_policies().role_name(name).into_paginator().items().send().try_collect().await {
            Ok(v) => v,
            Err(e) if fault::is_not_found(&e) => return Ok(()),
            Err(e) => return Err(fault::map(a, &e)),
        };
        for policy in &inline {
            match self.iam.delete_role_policy().role_name(name).policy_name(policy).send().await {
                Ok(_) => {}
                Err(e) if fault::is_not_found(&e) => {}
                Err(e) => return Err(fault::map(a, &e)),
            }
        }
        let profiles = match self.iam.list_instance_profiles_for_role().role_name(name).into_paginator().items().send().try_collect().await {
            Ok(v) => v,
            Err(e) if fault::is_not_found(&e) => return Ok(()),
            Err(e) => return Err(fault::map(a, &e)),
        };
        for profile in &profiles {
            match self.iam.remove_role_from_instance_profile().role_name(name).instance_profile_name(profile.instance_profile_name()).send().await {
                Ok(_) => {}
                Err(e) if fault::is_not_found(&e) => {}
                Err(e) => return Err(fault::map(a, &e)),
            }
        }
        fault::gone(a, self.iam.delete_role().role_name(name).send().await)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_trust_policy_names_the_service() {
        let p: serde_json::Value = serde_json::from_str(&super::trust_policy("eks.amazonaws.com")).unwrap();
        assert_eq!(p["Statement"][0]["Principal"]["Service"], "eks.amazonaws.com");
        assert_eq!(p["Statement"][0]["Action"], "sts:AssumeRole");
    }
}
