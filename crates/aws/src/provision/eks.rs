//! EKS: clusters and managed node groups. Physical ids: the cluster name, and
//! `<cluster>/<nodegroup>` for a node group (EKS needs both names to find it).

use aws_sdk_eks::types::{Cluster, LaunchTemplateSpecification, Nodegroup, NodegroupScalingConfig, VpcConfigRequest};
use serde_json::json;
use slipway_core::provision::{CreateCtx, Created, Observed, ProvisionError, ResourceKind, ResourceSpec};

use super::fault::{self, About};
use super::{about, about_obs, client_token, dep, dep_id, dep_ids, observed, our_tags, prop_i32, prop_str, same, tagged, AwsDriver, Tags};

fn tags(t: Option<&std::collections::HashMap<String, String>>) -> Tags {
    t.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default()
}

fn cluster_obs(c: &Cluster) -> Observed {
    let state = c.status().map(|s| s.as_str()).unwrap_or("unknown");
    observed(
        ResourceKind::EksCluster,
        c.name().unwrap_or_default(),
        state,
        state == "ACTIVE",
        state == "FAILED",
        json!({
            "version": c.version(),
            "endpoint": c.endpoint(),
            "certificateAuthority": c.certificate_authority().and_then(|a| a.data()),
            "arn": c.arn(),
        }),
        &tags(c.tags()),
    )
}

fn nodegroup_obs(g: &Nodegroup) -> Observed {
    let state = g.status().map(|s| s.as_str()).unwrap_or("unknown");
    let sc = g.scaling_config();
    observed(
        ResourceKind::EksNodegroup,
        &format!("{}/{}", g.cluster_name().unwrap_or_default(), g.nodegroup_name().unwrap_or_default()),
        state,
        state == "ACTIVE",
        matches!(state, "CREATE_FAILED" | "DELETE_FAILED"),
        json!({
            "instanceType": g.instance_types().first(),
            "desiredSize": sc.and_then(|s| s.desired_size()),
            "minSize": sc.and_then(|s| s.min_size()),
            "maxSize": sc.and_then(|s| s.max_size()),
            "cluster": g.cluster_name(),
            "arn": g.nodegroup_arn(),
            "launchTemplate": g.launch_template().and_then(|t| t.id()),
            "subnetIds": g.subnets(),
        }),
        &tags(g.tags()),
    )
}

fn split_ng<'a>(a: About<'_>, id: &'a str) -> Result<(&'a str, &'a str), ProvisionError> {
    id.split_once('/').ok_or_else(|| a.fatal(format!("'{id}' is not <cluster>/<nodegroup>")))
}

fn is_deleting(state: &str) -> bool {
    state == "DELETING"
}

/// The role ARN from a role dependency's attrs.
fn role_arn<'a>(spec: &ResourceSpec, ctx: &'a CreateCtx<'_>) -> Result<&'a str, ProvisionError> {
    let role = prop_str(spec, "role")?;
    dep(spec, ctx, role)?.attrs["arn"].as_str().ok_or_else(|| about(spec).fatal(format!("the role '{role}' reports no ARN")))
}

fn scaling(spec: &ResourceSpec) -> Result<NodegroupScalingConfig, ProvisionError> {
    let desired = prop_i32(spec, "desiredSize")?;
    let min = spec.props["minSize"].as_i64().map(|n| n as i32).unwrap_or(desired.min(1));
    let max = spec.props["maxSize"].as_i64().map(|n| n as i32).unwrap_or(desired.max(1));
    if !(min <= desired && desired <= max) {
        return Err(about(spec).fatal(format!("desiredSize {desired} is not between minSize {min} and maxSize {max}")));
    }
    Ok(NodegroupScalingConfig::builder().min_size(min).max_size(max).desired_size(desired).build())
}

impl AwsDriver {
    async fn cluster(&self, a: About<'_>, name: &str) -> Result<Option<Cluster>, ProvisionError> {
        match self.eks.describe_cluster().name(name).send().await {
            Ok(o) => Ok(o.cluster().cloned()),
            Err(e) if fault::is_not_found(&e) => Ok(None),
            Err(e) => Err(fault::map(a, &e)),
        }
    }

    async fn nodegroup(&self, a: About<'_>, cluster: &str, name: &str) -> Result<Option<Nodegroup>, ProvisionError> {
        match self.eks.describe_nodegroup().cluster_name(cluster).nodegroup_name(name).send().await {
            Ok(o) => Ok(o.nodegroup().cloned()),
            Err(e) if fault::is_not_found(&e) => Ok(None),
            Err(e) => Err(fault::map(a, &e)),
        }
    }

    async fn cluster_names(&self, a: About<'_>) -> Result<Vec<String>, ProvisionError> {
        self.eks.list_clusters().into_paginator().items().send().try_collect().await.map_err(|e| fault::map(a, &e))
    }

    pub(crate) async fn eks_find(&self, project: &str, spec: &ResourceSpec) -> Result<Option<Observed>, ProvisionError> {
        let a = about(spec);
        match spec.kind {
            ResourceKind::EksCluster => Ok(self
                .cluster(a, &spec.name)
                .await?
                .filter(|c| tagged(&tags(c.tags()), project, Some(&spec.id)))
                .map(|c| cluster_obs(&c))
                .filter(|o| !is_deleting(&o.state))),
            ResourceKind::EksNodegroup => {
                // The spec names its cluster by logical id only: look in every cluster.
                for cluster in self.cluster_names(a).await? {
                    if let Some(g) = self.nodegroup(a, &cluster, &spec.name).await? {
                        let o = nodegroup_obs(&g);
                        if tagged(&tags(g.tags()), project, Some(&spec.id)) && !is_deleting(&o.state) {
                            return Ok(Some(o));
                        }
                    }
                }
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    pub(crate) async fn eks_describe(&self, kind: ResourceKind, id: &str) -> Result<Option<Observed>, ProvisionError> {
        let a = About { kind, name: id };
        match kind {
            ResourceKind::EksCluster => Ok(self.cluster(a, id).await?.map(|c| cluster_obs(&c))),
            ResourceKind::EksNodegroup => {
                let (cluster, ng) = split_ng(a, id)?;
                Ok(self.nodegroup(a, cluster, ng).await?.map(|g| nodegroup_obs(&g)))
            }
            _ => Ok(None),
        }
    }

    /// Clusters by their tags, and the tagged node groups of those clusters.
    pub(crate) async fn eks_list(&self, project: &str) -> Result<Vec<Observed>, ProvisionError> {
        let a = About { kind: ResourceKind::EksCluster, name: "(listing)" };
        // The clusters at once, and each one's node groups at once.
        let per_cluster = futures::future::try_join_all(self.cluster_names(a).await?.into_iter().map(|name| self.eks_list_cluster(project, name))).await?;
        Ok(per_cluster.into_iter().flatten().collect())
    }

    /// One cluster, when tagged for `project`, and its tagged node groups.
    async fn eks_list_cluster(&self, project: &str, name: String) -> Result<Vec<Observed>, ProvisionError> {
        let a = About { kind: ResourceKind::EksCluster, name: "(listing)" };
        let an = About { kind: ResourceKind::EksNodegroup, name: &name };
        // The cluster and the names of its node groups at once (both need only its name).
        let (c, ngs) = tokio::join!(self.cluster(a, &name), async {
            match self.eks.list_nodegroups().cluster_name(&name).into_paginator().items().send().try_collect().await {
                Ok(v) => Ok(v),
                Err(e) if fault::is_not_found(&e) => Ok(vec![]),
                Err(e) => Err(fault::map(an, &e)),
            }
        });
        let Some(c) = c? else { return Ok(vec![]) };
        if !tagged(&tags(c.tags()), project, None) {
            return Ok(vec![]);
        }
        let ngs: Vec<String> = ngs?;
        let mut out = vec![];
        let o = cluster_obs(&c);
        if !is_deleting(&o.state) {
            out.push(o);
        }
        let groups = futures::future::try_join_all(ngs.iter().map(|ng| self.nodegroup(an, &name, ng))).await?;
        out.extend(groups.into_iter().flatten().filter(|g| tagged(&tags(g.tags()), project, None)).map(|g| nodegroup_obs(&g)).filter(|o| !is_deleting(&o.state)));
        Ok(out)
    }

    pub(crate) async fn eks_create(&self, spec: &ResourceSpec, ctx: &CreateCtx<'_>) -> Result<Created, ProvisionError> {
        let a = about(spec);
        let p = ctx.project;
        let name = spec.name.as_str();
        let not_ours = |what: &str| a.fatal(format!("an {what} named {name} already exists and is not tagged for project {p}"));
        let mut obs = match spec.kind {
            ResourceKind::EksCluster => {
                let adopt = |c: Cluster| -> Result<Observed, ProvisionError> {
                    if !tagged(&tags(c.tags()), p, Some(&spec.id)) {
                        return Err(not_ours("EKS cluster"));
                    }
                    let o = cluster_obs(&c);
                    if is_deleting(&o.state) {
                        return Err(a.not_yet(format!("{name} is still being deleted")));
                    }
                    Ok(o)
                };
                match self.cluster(a, name).await? {
                    Some(c) => adopt(c)?,
                    None => {
                        let version = prop_str(spec, "version")?;
                        let role = role_arn(spec, ctx)?;
                        let subnets = dep_ids(spec, ctx, "subnets")?;
                        let sgs = dep_ids(spec, ctx, "securityGroups")?;
                        let token = client_token(p, &spec.id, &[version, role, &subnets.join(","), &sgs.join(",")]);
                        let mut req = self
                            .eks
                            .create_cluster()
                            .name(name)
                            .version(version)
                            .role_arn(role)
                            .resources_vpc_config(VpcConfigRequest::builder().set_subnet_ids(Some(subnets)).set_security_group_ids(Some(sgs)).build())
                            .client_request_token(token);
                        for (k, v) in our_tags(p, spec) {
                            req = req.tags(k, v);
                        }
                        match req.send().await {
                            Ok(out) => cluster_obs(out.cluster().ok_or_else(|| a.fatal("CreateCluster returned no cluster"))?),
                            Err(e) if fault::code(&e) == Some("ResourceInUseException") => {
                                adopt(self.cluster(a, name).await?.ok_or_else(|| fault::map(a, &e))?)?
                            }
                            Err(e) => return Err(fault::map(a, &e)),
                        }
                    }
                }
            }
            ResourceKind::EksNodegroup => {
                let cluster = dep_id(spec, ctx, "cluster")?;
                let adopt = |g: Nodegroup| -> Result<Observed, ProvisionError> {
                    if !tagged(&tags(g.tags()), p, Some(&spec.id)) {
                        return Err(not_ours("EKS node group"));
                    }
                    let o = nodegroup_obs(&g);
                    if is_deleting(&o.state) {
                        return Err(a.not_yet(format!("{name} is still being deleted")));
                    }
                    Ok(o)
                };
                match self.nodegroup(a, cluster, name).await? {
                    Some(g) => adopt(g)?,
                    None => {
                        let role = role_arn(spec, ctx)?;
                        let subnets = dep_ids(spec, ctx, "subnets")?;
                        let itype = prop_str(spec, "instanceType")?;
                        let sc = scaling(spec)?;
                        // Our launch template: IMDSv2 on the nodes (EKS's own leaves it to the AMI).
                        let lt = match spec.props["launchTemplate"].as_str() {
                            Some(l) => {
                                let t = dep(spec, ctx, l)?;
                                Some(LaunchTemplateSpecification::builder().id(&t.physical_id).set_version(t.attrs["version"].as_str().map(str::to_string)).build())
                            }
                            None => None,
                        };
                        let joined = subnets.join(",");
                        let mut params = vec![cluster, role, joined.as_str(), itype];
                        params.extend(lt.as_ref().and_then(|t| t.id()));
                        let token = client_token(p, &spec.id, &params);
                        let mut req = self
                            .eks
                            .create_nodegroup()
                            .cluster_name(cluster)
                            .nodegroup_name(name)
                            .node_role(role)
                            .set_subnets(Some(subnets))
                            .instance_types(itype)
                            .scaling_config(sc)
                            .set_launch_template(lt)
                            .client_request_token(token);
                        for (k, v) in our_tags(p, spec) {
                            req = req.tags(k, v);
                        }
                        match req.send().await {
                            Ok(out) => nodegroup_obs(out.nodegroup().ok_or_else(|| a.fatal("CreateNodegroup returned no node group"))?),
                            Err(e) if fault::code(&e) == Some("ResourceInUseException") => match self.nodegroup(a, cluster, name).await? {
                                Some(g) => adopt(g)?,
                                // In use, but not by a node group of that name: the cluster is busy.
                                None => return Err(fault::map(a, &e)),
                            },
                            Err(e) => return Err(fault::map(a, &e)),
                        }
                    }
                }
            }
            _ => return Err(a.fatal("not an EKS resource")),
        };
        obs.logical_id = Some(spec.id.clone());
        Ok(Created { observed: obs, secret: None })
    }

    /// Kubernetes version: UpdateClusterVersion (EKS moves one minor version at a time).
    pub(crate) async fn cluster_update(&self, spec: &ResourceSpec, current: &Observed) -> Result<Observed, ProvisionError> {
        let a = about(spec);
        let name = current.physical_id.as_str();
        let c = self.cluster(a, name).await?.ok_or_else(|| a.fatal(format!("{name} is gone")))?;
        let now = cluster_obs(&c);
        if same(&spec.props["version"], &now.attrs["version"]) {
            return Ok(now);
        }
        if now.state != "ACTIVE" {
            return Err(a.not_yet(format!("{name} is {}; its version can change when it is ACTIVE", now.state)));
        }
        self.eks.update_cluster_version().name(name).version(prop_str(spec, "version")?).send().await.map_err(|e| fault::map(a, &e))?;
        Ok(self.cluster(a, name).await?.map(|c| cluster_obs(&c)).unwrap_or(now))
    }

    /// desiredSize (with minSize / maxSize): UpdateNodegroupConfig. The instance type cannot
    /// change in place.
    pub(crate) async fn nodegroup_update(&self, spec: &ResourceSpec, current: &Observed, _ctx: &CreateCtx<'_>) -> Result<Observed, ProvisionError> {
        let a = about(spec);
        let (cluster, ng) = split_ng(a, &current.physical_id)?;
        let g = self.nodegroup(a, cluster, ng).await?.ok_or_else(|| a.fatal(format!("{} is gone", current.physical_id)))?;
        let now = nodegroup_obs(&g);
        if !same(&spec.props["instanceType"], &now.attrs["instanceType"]) {
            return Err(a.fatal(format!(
                "changing the node instance type ({} -> {}) needs a replace",
                now.attrs["instanceType"].as_str().unwrap_or("?"),
                spec.props["instanceType"].as_str().unwrap_or("?")
            )));
        }
        let sc = scaling(spec)?;
        let unchanged = [("desiredSize", sc.desired_size()), ("minSize", sc.min_size()), ("maxSize", sc.max_size())]
            .iter()
            .all(|(k, v)| now.attrs[*k].as_i64() == v.map(i64::from));
        if unchanged {
            return Ok(now);
        }
        if now.state != "ACTIVE" {
            return Err(a.not_yet(format!("{} is {}; it can be scaled when it is ACTIVE", current.physical_id, now.state)));
        }
        self.eks
            .update_nodegroup_config()
            .cluster_name(cluster)
            .nodegroup_name(ng)
            .scaling_config(sc)
            .send()
            .await
            .map_err(|e| fault::map(a, &e))?;
        Ok(self.nodegroup(a, cluster, ng).await?.map(|g| nodegroup_obs(&g)).unwrap_or(now))
    }

    pub(crate) async fn eks_delete(&self, o: &Observed) -> Result<(), ProvisionError> {
        let a = about_obs(o);
        match o.kind {
            ResourceKind::EksCluster => {
                let name = o.physical_id.as_str();
                match self.cluster(a, name).await? {
                    None => return Ok(()),
                    Some(c) if c.status().is_some_and(|s| is_deleting(s.as_str())) => return Ok(()),
                    Some(_) => {}
                }
                fault::gone(a, self.eks.delete_cluster().name(name).send().await)
            }
            ResourceKind::EksNodegroup => {
                let (cluster, ng) = split_ng(a, &o.physical_id)?;
                match self.nodegroup(a, cluster, ng).await? {
                    None => return Ok(()),
                    Some(g) if g.status().is_some_and(|s| is_deleting(s.as_str())) => return Ok(()),
                    Some(_) => {}
                }
                fault::gone(a, self.eks.delete_nodegroup().cluster_name(cluster).nodegroup_name(ng).send().await)
            }
            _ => Err(a.fatal("not an EKS resource")),
        }
    }
}
