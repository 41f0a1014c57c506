//! RDS: DB subnet groups and MySQL instances. Physical ids are their names (RDS keeps them in
//! lower case).

use aws_sdk_rds::types::{DbInstance, DbSubnetGroup, Tag};
use serde_json::json;
use slipway_core::provision::{CreateCtx, Created, Observed, ProvisionError, ResourceKind, ResourceSpec};

use super::fault::{self, About};
use super::{about, about_obs, dep_id, dep_ids, observed, our_tags, prop_i32, prop_str, same, tagged, AwsDriver, Tags};

/// DB instance states after which nothing more happens by itself.
const DB_FAILED: &[&str] = &[
    "failed",
    "incompatible-network",
    "incompatible-option-group",
    "incompatible-parameters",
    "incompatible-restore",
    "restore-error",
    "inaccessible-encryption-credentials",
];

fn tags(ts: &[Tag]) -> Tags {
    ts.iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))).collect()
}

fn rds_tags(project: &str, spec: &ResourceSpec) -> Vec<Tag> {
    our_tags(project, spec).into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

/// The identifier RDS stores (lower case).
fn ident(spec: &ResourceSpec) -> String {
    spec.name.to_ascii_lowercase()
}

fn db_obs(d: &DbInstance) -> Observed {
    let state = d.db_instance_status().unwrap_or("unknown");
    observed(
        ResourceKind::DbInstance,
        d.db_instance_identifier().unwrap_or_default(),
        state,
        state == "available",
        DB_FAILED.contains(&state),
        json!({
            "instanceClass": d.db_instance_class(),
            "allocatedStorage": d.allocated_storage(),
            "engineVersion": d.engine_version(),
            "engine": d.engine(),
            "endpoint": d.endpoint().and_then(|e| e.address()),
            "port": d.endpoint().and_then(|e| e.port()),
            "publiclyAccessible": d.publicly_accessible(),
            "arn": d.db_instance_arn(),
        }),
        &tags(d.tag_list()),
    )
}

fn group_obs(g: &DbSubnetGroup, t: &Tags) -> Observed {
    let state = g.subnet_group_status().unwrap_or("Complete");
    observed(
        ResourceKind::DbSubnetGroup,
        g.db_subnet_group_name().unwrap_or_default(),
        state,
        true,
        false,
        json!({
            "arn": g.db_subnet_group_arn(),
            "vpcId": g.vpc_id(),
            "subnetIds": g.subnets().iter().filter_map(|s| s.subnet_identifier()).collect::<Vec<_>>(),
        }),
        t,
    )
}

fn is_deleting(d: &DbInstance) -> bool {
    matches!(d.db_instance_status(), Some("deleting"))
}

impl AwsDriver {
    async fn db_instance(&self, a: About<'_>, id: &str) -> Result<Option<DbInstance>, ProvisionError> {
        match self.rds.describe_db_instances().db_instance_identifier(id).send().await {
            Ok(o) => Ok(o.db_instances().first().cloned()),
            Err(e) if fault::is_not_found(&e) => Ok(None),
            Err(e) => Err(fault::map(a, &e)),
        }
    }

    async fn db_group(&self, a: About<'_>, name: &str) -> Result<Option<(DbSubnetGroup, Tags)>, ProvisionError> {
        let g = match self.rds.describe_db_subnet_groups().db_subnet_group_name(name).send().await {
            Ok(o) => o.db_subnet_groups().first().cloned(),
            Err(e) if fault::is_not_found(&e) => None,
            Err(e) => return Err(fault::map(a, &e)),
        };
        let Some(g) = g else { return Ok(None) };
        let t = self.rds_tags_of(a, g.db_subnet_group_arn().unwrap_or_default()).await?;
        Ok(Some((g, t)))
    }

    async fn rds_tags_of(&self, a: About<'_>, arn: &str) -> Result<Tags, ProvisionError> {
        match self.rds.list_tags_for_resource().resource_name(arn).send().await {
            Ok(o) => Ok(tags(o.tag_list())),
            Err(e) if fault::is_not_found(&e) => Ok(Tags::new()),
            Err(e) => Err(fault::map(a, &e)),
        }
    }

    pub(crate) async fn rds_find(&self, project: &str, spec: &ResourceSpec) -> Result<Option<Observed>, ProvisionError> {
        let a = about(spec);
        Ok(match spec.kind {
            ResourceKind::DbInstance => self
                .db_instance(a, &ident(spec))
                .await?
                .filter(|d| !is_deleting(d) && tagged(&tags(d.tag_list()), project, Some(&spec.id)))
                .map(|d| db_obs(&d)),
            ResourceKind::DbSubnetGroup => {
                self.db_group(a, &ident(spec)).await?.filter(|(_, t)| tagged(t, project, Some(&spec.id))).map(|(g, t)| group_obs(&g, &t))
            }
            _ => None,
        })
    }

    pub(crate) async fn rds_describe(&self, kind: ResourceKind, id: &str) -> Result<Option<Observed>, ProvisionError> {
        let a = About { kind, name: id };
        Ok(match kind {
            ResourceKind::DbInstance => self.db_instance(a, id).await?.map(|d| db_obs(&d)),
            ResourceKind::DbSubnetGroup => self.db_group(a, id).await?.map(|(g, t)| group_obs(&g, &t)),
            _ => None,
        })
    }

    /// DB instances by their TagList; subnet groups named `<project>-...` by their tags (RDS
    /// lists subnet groups without tags, so only the project's own names are looked at).
    pub(crate) async fn rds_list(&self, project: &str) -> Result<Vec<Observed>, ProvisionError> {
        let a = About { kind: ResourceKind::DbInstance, name: "(listing)" };
        let ag = About { kind: ResourceKind::DbSubnetGroup, name: "(listing)" };
        // Both lists at once, then the project's subnet groups' tags at once.
        let (dbs, groups): (Vec<DbInstance>, Vec<DbSubnetGroup>) = tokio::try_join!(
            async { self.rds.describe_db_instances().into_paginator().items().send().try_collect().await.map_err(|e| fault::map(a, &e)) },
            async { self.rds.describe_db_subnet_groups().into_paginator().items().send().try_collect().await.map_err(|e| fault::map(ag, &e)) }
        )?;
        let mut out: Vec<Observed> = dbs.iter().filter(|d| !is_deleting(d) && tagged(&tags(d.tag_list()), project, None)).map(db_obs).collect();
        let prefix = format!("{project}-");
        let ours: Vec<&DbSubnetGroup> = groups.iter().filter(|g| g.db_subnet_group_name().is_some_and(|n| n.starts_with(&prefix))).collect();
        let group_tags = futures::future::try_join_all(ours.iter().map(|g| self.rds_tags_of(ag, g.db_subnet_group_arn().unwrap_or_default()))).await?;
        out.extend(ours.into_iter().zip(group_tags).filter(|(_, t)| tagged(t, project, None)).map(|(g, t)| group_obs(g, &t)));
        Ok(out)
    }

    pub(crate) async fn rds_create(&self, spec: &ResourceSpec, ctx: &CreateCtx<'_>) -> Result<Created, ProvisionError> {
        let a = about(spec);
        let p = ctx.project;
        let name = ident(spec);
        let not_ours = |what: &str| a.fatal(format!("a {what} named {name} already exists and is not tagged for project {p}"));
        let mut obs = match spec.kind {
            ResourceKind::DbSubnetGroup => {
                let subnets = dep_ids(spec, ctx, "subnets")?;
                match self.db_group(a, &name).await? {
                    Some((g, t)) if tagged(&t, p, Some(&spec.id)) => group_obs(&g, &t),
                    Some(_) => return Err(not_ours("DB subnet group")),
                    None => {
                        let description = spec.props["description"].as_str().unwrap_or(&spec.name);
                        let out = self
                            .rds
                            .create_db_subnet_group()
                            .db_subnet_group_name(&name)
                            .db_subnet_group_description(description)
                            .set_subnet_ids(Some(subnets))
                            .set_tags(Some(rds_tags(p, spec)))
                            .send()
                            .await
                            .map_err(|e| match fault::code(&e) {
                                Some("DBSubnetGroupAlreadyExists" | "DBSubnetGroupAlreadyExistsFault") => not_ours("DB subnet group"),
                                _ => fault::map(a, &e),
                            })?;
                        let g = out.db_subnet_group().ok_or_else(|| a.fatal("CreateDBSubnetGroup returned no group"))?;
                        group_obs(g, &our_tags(p, spec).into_iter().map(|(k, v)| (k.to_string(), v)).collect())
                    }
                }
            }
            ResourceKind::DbInstance => match self.db_instance(a, &name).await? {
                Some(d) if tagged(&tags(d.tag_list()), p, Some(&spec.id)) => {
                    if is_deleting(&d) {
                        return Err(a.not_yet(format!("{name} is still being deleted")));
                    }
                    db_obs(&d)
                }
                Some(_) => return Err(not_ours("DB instance")),
                None => {
                    let password = ctx.secret.ok_or_else(|| a.fatal("no master password was given for the database"))?;
                    let group = dep_id(spec, ctx, "dbSubnetGroup")?;
                    let sgs = dep_ids(spec, ctx, "securityGroups")?;
                    let mut req = self
                        .rds
                        .create_db_instance()
                        .db_instance_identifier(&name)
                        .engine(spec.props["engine"].as_str().unwrap_or("mysql"))
                        .engine_version(prop_str(spec, "engineVersion")?)
                        .db_instance_class(prop_str(spec, "instanceClass")?)
                        .allocated_storage(prop_i32(spec, "allocatedStorage")?)
                        .db_subnet_group_name(group)
                        .set_vpc_security_group_ids(Some(sgs))
                        .master_username(prop_str(spec, "masterUsername")?)
                        .master_user_password(password.expose())
                        // Private: only what runs in the VPC reaches it (the blueprint never says otherwise).
                        .publicly_accessible(spec.props["publiclyAccessible"].as_bool().unwrap_or(false))
                        .storage_encrypted(true)
                        .set_tags(Some(rds_tags(p, spec)));
                    if let Some(db) = spec.props["dbName"].as_str() {
                        req = req.db_name(db);
                    }
                    let out = req.send().await.map_err(|e| match fault::code(&e) {
                        Some("DBInstanceAlreadyExists" | "DBInstanceAlreadyExistsFault") => not_ours("DB instance"),
                        _ => fault::map_scrubbed(a, &e, Some(password.expose())),
                    })?;
                    db_obs(out.db_instance().ok_or_else(|| a.fatal("CreateDBInstance returned no instance"))?)
                }
            },
            _ => return Err(a.fatal("not an RDS resource")),
        };
        obs.logical_id = Some(spec.id.clone());
        Ok(Created { observed: obs, secret: None })
    }

    /// instanceClass, allocatedStorage, engineVersion: ModifyDBInstance, applied immediately.
    pub(crate) async fn db_update(&self, spec: &ResourceSpec, current: &Observed) -> Result<Observed, ProvisionError> {
        let a = about(spec);
        let id = current.physical_id.as_str();
        let d = self.db_instance(a, id).await?.ok_or_else(|| a.fatal(format!("{id} is gone")))?;
        let now = db_obs(&d);
        if now.state != "available" {
            return Err(a.not_yet(format!("{id} is {}; it can be changed when it is available", now.state)));
        }
        let differs = |k: &str| !same(&spec.props[k], &now.attrs[k]);
        let mut req = self.rds.modify_db_instance().db_instance_identifier(id).apply_immediately(true);
        let mut changes = 0;
        if differs("instanceClass") {
            req = req.db_instance_class(prop_str(spec, "instanceClass")?);
            changes += 1;
        }
        if differs("allocatedStorage") {
            req = req.allocated_storage(prop_i32(spec, "allocatedStorage")?);
            changes += 1;
        }
        if differs("engineVersion") {
            let want = prop_str(spec, "engineVersion")?;
            let major = |v: &str| v.split('.').take(2).collect::<Vec<_>>().join(".");
            let have = now.attrs["engineVersion"].as_str().unwrap_or_default();
            req = req.engine_version(want).allow_major_version_upgrade(major(want) != major(have));
            changes += 1;
        }
        if changes == 0 {
            return Ok(now);
        }
        let out = req.send().await.map_err(|e| fault::map(a, &e))?;
        Ok(out.db_instance().map(db_obs).unwrap_or(now))
    }

    pub(crate) async fn rds_delete(&self, o: &Observed) -> Result<(), ProvisionError> {
        let a = about_obs(o);
        let id = o.physical_id.as_str();
        match o.kind {
            ResourceKind::DbInstance => {
                match self.rds.delete_db_instance().db_instance_identifier(id).skip_final_snapshot(true).delete_automated_backups(true).send().await {
                    Ok(_) => Ok(()),
                    Err(e) if fault::is_not_found(&e) => Ok(()),
                    Err(e) if matches!(fault::code(&e), Some("InvalidDBInstanceState" | "InvalidDBInstanceStateFault")) => {
                        // Already being deleted is what we asked for.
                        match self.db_instance(a, id).await? {
                            None => Ok(()),
                            Some(d) if is_deleting(&d) => Ok(()),
                            Some(_) => Err(fault::map(a, &e)),
                        }
                    }
                    Err(e) => Err(fault::map(a, &e)),
                }
            }
            ResourceKind::DbSubnetGroup => fault::gone(a, self.rds.delete_db_subnet_group().db_subnet_group_name(id).send().await),
            _ => Err(a.fatal("not an RDS resource")),
        }
    }
}
