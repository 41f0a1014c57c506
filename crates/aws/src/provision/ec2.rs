//! EC2: VPC, internet gateway, subnet, route table, security group, key pair, instance.
//! Physical ids: the EC2 ids (vpc-, igw-, subnet-, rtb-, sg-, i-), and the key name for key pairs
//! (what RunInstances takes).

use aws_sdk_ec2::types::{
    AttributeBooleanValue, AttributeValue, Filter, Instance, InstanceStateName, InstanceType, InternetGateway, IpPermission, IpRange,
    KeyPairInfo, ResourceType, RouteTable, SecurityGroup, Subnet, Tag, TagSpecification, Vpc, VpcAttributeName,
};
use base64::Engine;
use serde_json::json;
use slipway_core::provision::{CreateCtx, Created, Observed, ProvisionError, ResourceKind, ResourceSpec, TAG_PROJECT, TAG_RESOURCE};
use slipway_core::secrets::Secret;

use super::fault::{self, About};
use super::{about, about_obs, client_token, dep_id, dep_ids, observed, our_tags, prop_bool, prop_list, prop_str, AwsDriver, Tags};

/// Instance states that count as existing (not terminated or being terminated).
const LIVE_INSTANCE_STATES: &[&str] = &["pending", "running", "stopping", "stopped"];

/// How an EC2 lookup selects: one id, or tag filters.
enum Q<'a> {
    Id(&'a str),
    Filters(Vec<Filter>),
}

fn filter(name: &str, values: &[&str]) -> Filter {
    Filter::builder().name(name).set_values(Some(values.iter().map(|v| v.to_string()).collect())).build()
}

fn tag_filters(project: &str, resource: Option<&str>) -> Vec<Filter> {
    let mut f = vec![filter(&format!("tag:{TAG_PROJECT}"), &[project])];
    if let Some(r) = resource {
        f.push(filter(&format!("tag:{TAG_RESOURCE}"), &[r]));
    }
    f
}

fn tag_spec(rt: ResourceType, project: &str, spec: &ResourceSpec) -> TagSpecification {
    let mut b = TagSpecification::builder().resource_type(rt);
    for (k, v) in our_tags(project, spec) {
        b = b.tags(Tag::builder().key(k).value(v).build());
    }
    b.build()
}

fn tags(ts: &[Tag]) -> Tags {
    ts.iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))).collect()
}

fn vpc_obs(v: &Vpc) -> Observed {
    let state = v.state().map(|s| s.as_str()).unwrap_or("unknown");
    observed(ResourceKind::Vpc, v.vpc_id().unwrap_or_default(), state, state == "available", false, json!({"cidr": v.cidr_block()}), &tags(v.tags()))
}

fn igw_obs(g: &InternetGateway) -> Observed {
    let vpc = g.attachments().iter().find_map(|a| a.vpc_id());
    let state = if vpc.is_some() { "attached" } else { "detached" };
    observed(ResourceKind::InternetGateway, g.internet_gateway_id().unwrap_or_default(), state, true, false, json!({"vpcId": vpc}), &tags(g.tags()))
}

fn subnet_obs(s: &Subnet) -> Observed {
    let state = s.state().map(|s| s.as_str()).unwrap_or("unknown");
    observed(
        ResourceKind::Subnet,
        s.subnet_id().unwrap_or_default(),
        state,
        state == "available",
        false,
        json!({"cidr": s.cidr_block(), "az": s.availability_zone(), "vpcId": s.vpc_id(), "public": s.map_public_ip_on_launch()}),
        &tags(s.tags()),
    )
}

fn rt_obs(r: &RouteTable) -> Observed {
    let subnets: Vec<&str> = r.associations().iter().filter_map(|a| a.subnet_id()).collect();
    let gw = r.routes().iter().find(|x| x.destination_cidr_block() == Some("0.0.0.0/0")).and_then(|x| x.gateway_id());
    observed(
        ResourceKind::RouteTable,
        r.route_table_id().unwrap_or_default(),
        "available",
        true,
        false,
        json!({"vpcId": r.vpc_id(), "subnetIds": subnets, "defaultGateway": gw}),
        &tags(r.tags()),
    )
}

fn sg_obs(g: &SecurityGroup) -> Observed {
    observed(
        ResourceKind::SecurityGroup,
        g.group_id().unwrap_or_default(),
        "available",
        true,
        false,
        json!({"vpcId": g.vpc_id(), "groupName": g.group_name()}),
        &tags(g.tags()),
    )
}

fn key_obs(k: &KeyPairInfo) -> Observed {
    observed(
        ResourceKind::KeyPair,
        k.key_name().unwrap_or_default(),
        "available",
        true,
        false,
        json!({"keyPairId": k.key_pair_id(), "fingerprint": k.key_fingerprint()}),
        &tags(k.tags()),
    )
}

fn instance_state(i: &Instance) -> &str {
    i.state().and_then(|s| s.name()).map(|n| n.as_str()).unwrap_or("unknown")
}

fn inst_obs(i: &Instance) -> Observed {
    let state = instance_state(i);
    observed(
        ResourceKind::Instance,
        i.instance_id().unwrap_or_default(),
        state,
        state == "running",
        false,
        json!({
            "instanceType": i.instance_type().map(|t| t.as_str()),
            "publicIp": i.public_ip_address(),
            "privateIp": i.private_ip_address(),
            "az": i.placement().and_then(|p| p.availability_zone()),
            "subnetId": i.subnet_id(),
        }),
        &tags(i.tags()),
    )
}

/// A rule from the spec: (protocol, from, to, cidr).
type Rule = (String, i32, i32, String);

fn spec_rules(spec: &ResourceSpec) -> Result<Vec<Rule>, ProvisionError> {
    let Some(list) = spec.props["ingress"].as_array() else { return Ok(vec![]) };
    list.iter()
        .map(|r| {
            let port = |k: &str| r[k].as_i64().and_then(|n| i32::try_from(n).ok());
            match (r["protocol"].as_str(), port("fromPort"), port("toPort"), r["cidr"].as_str()) {
                (Some(p), Some(f), Some(t), Some(c)) => Ok((p.to_string(), f, t, c.to_string())),
                _ => Err(about(spec).fatal(format!("ingress rule {r} needs protocol, fromPort, toPort and cidr"))),
            }
        })
        .collect()
}

fn existing_rules(g: &SecurityGroup) -> Vec<Rule> {
    let mut out = vec![];
    for p in g.ip_permissions() {
        for r in p.ip_ranges() {
            out.push((
                p.ip_protocol().unwrap_or_default().to_string(),
                p.from_port().unwrap_or(-1),
                p.to_port().unwrap_or(-1),
                r.cidr_ip().unwrap_or_default().to_string(),
            ));
        }
    }
    out
}

impl AwsDriver {
    pub(crate) async fn azs(&self) -> Result<Vec<String>, ProvisionError> {
        let a = About { kind: ResourceKind::Subnet, name: "zones" };
        // "Availability zones: <code>: <message>", not "Subnet zones: ...".
        let relabel = |m: String| m.replacen("Subnet zones", "Availability zones", 1);
        let out = self.ec2.describe_availability_zones().send().await.map_err(|e| match fault::map(a, &e) {
            ProvisionError::Retryable(m) => ProvisionError::Retryable(relabel(m)),
            ProvisionError::NotYet(m) => ProvisionError::NotYet(relabel(m)),
            ProvisionError::Fatal(m) => ProvisionError::Fatal(relabel(m)),
        })?;
        let mut names: Vec<String> = out.availability_zones().iter().filter_map(|z| z.zone_name().map(str::to_string)).collect();
        names.sort();
        Ok(names)
    }

    async fn vpcs(&self, a: About<'_>, q: Q<'_>) -> Result<Vec<Vpc>, ProvisionError> {
        match q {
            Q::Id(id) => match self.ec2.describe_vpcs().vpc_ids(id).send().await {
                Ok(o) => Ok(o.vpcs().to_vec()),
                Err(e) if fault::is_not_found(&e) => Ok(vec![]),
                Err(e) => Err(fault::map(a, &e)),
            },
            Q::Filters(f) => self.ec2.describe_vpcs().set_filters(Some(f)).into_paginator().items().send().try_collect().await.map_err(|e| fault::map(a, &e)),
        }
    }

    async fn igws(&self, a: About<'_>, q: Q<'_>) -> Result<Vec<InternetGateway>, ProvisionError> {
        match q {
            Q::Id(id) => match self.ec2.describe_internet_gateways().internet_gateway_ids(id).send().await {
                Ok(o) => Ok(o.internet_gateways().to_vec()),
                Err(e) if fault::is_not_found(&e) => Ok(vec![]),
                Err(e) => Err(fault::map(a, &e)),
            },
            Q::Filters(f) => self
                .ec2
                .describe_internet_gateways()
                .set_filters(Some(f))
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| fault::map(a, &e)),
        }
    }

    async fn subnets(&self, a: About<'_>, q: Q<'_>) -> Result<Vec<Subnet>, ProvisionError> {
        match q {
            Q::Id(id) => match self.ec2.describe_subnets().subnet_ids(id).send().await {
                Ok(o) => Ok(o.subnets().to_vec()),
                Err(e) if fault::is_not_found(&e) => Ok(vec![]),
                Err(e) => Err(fault::map(a, &e)),
            },
            Q::Filters(f) => self.ec2.describe_subnets().set_filters(Some(f)).into_paginator().items().send().try_collect().await.map_err(|e| fault::map(a, &e)),
        }
    }

    async fn route_tables(&self, a: About<'_>, q: Q<'_>) -> Result<Vec<RouteTable>, ProvisionError> {
        match q {
            Q::Id(id) => match self.ec2.describe_route_tables().route_table_ids(id).send().await {
                Ok(o) => Ok(o.route_tables().to_vec()),
                Err(e) if fault::is_not_found(&e) => Ok(vec![]),
                Err(e) => Err(fault::map(a, &e)),
            },
            Q::Filters(f) => {
                self.ec2.describe_route_tables().set_filters(Some(f)).into_paginator().items().send().try_collect().await.map_err(|e| fault::map(a, &e))
            }
        }
    }

    async fn security_groups(&self, a: About<'_>, q: Q<'_>) -> Result<Vec<SecurityGroup>, ProvisionError> {
        match q {
            Q::Id(id) => match self.ec2.describe_security_groups().group_ids(id).send().await {
                Ok(o) => Ok(o.security_groups().to_vec()),
                Err(e) if fault::is_not_found(&e) => Ok(vec![]),
                Err(e) => Err(fault::map(a, &e)),
            },
            Q::Filters(f) => self
                .ec2
                .describe_security_groups()
                .set_filters(Some(f))
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| fault::map(a, &e)),
        }
    }

    async fn key_pairs(&self, a: About<'_>, q: Q<'_>) -> Result<Vec<KeyPairInfo>, ProvisionError> {
        let req = match q {
            Q::Id(name) => self.ec2.describe_key_pairs().key_names(name),
            Q::Filters(f) => self.ec2.describe_key_pairs().set_filters(Some(f)),
        };
        match req.send().await {
            Ok(o) => Ok(o.key_pairs().to_vec()),
            Err(e) if fault::is_not_found(&e) => Ok(vec![]),
            Err(e) => Err(fault::map(a, &e)),
        }
    }

    /// Instances (all states for an id; only live ones for tag filters).
    async fn instances(&self, a: About<'_>, q: Q<'_>) -> Result<Vec<Instance>, ProvisionError> {
        let reservations = match q {
            Q::Id(id) => match self.ec2.describe_instances().instance_ids(id).send().await {
                Ok(o) => o.reservations().to_vec(),
                Err(e) if fault::is_not_found(&e) => vec![],
                Err(e) => return Err(fault::map(a, &e)),
            },
            Q::Filters(mut f) => {
                f.push(filter("instance-state-name", LIVE_INSTANCE_STATES));
                self.ec2
                    .describe_instances()
                    .set_filters(Some(f))
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect()
                    .await
                    .map_err(|e| fault::map(a, &e))?
            }
        };
        Ok(reservations.iter().flat_map(|r| r.instances().iter().cloned()).collect())
    }

    /// The resource of the spec by its tags. One whose create stopped half-way (the gateway not
    /// attached, rules or routes missing, DNS attributes unset) is reported as not found, so
    /// that the executor calls `create` again, which finds it by its tags and finishes it.
    pub(crate) async fn ec2_find(&self, project: &str, spec: &ResourceSpec) -> Result<Option<Observed>, ProvisionError> {
        let a = about(spec);
        let f = || Q::Filters(tag_filters(project, Some(&spec.id)));
        let found = match spec.kind {
            ResourceKind::Vpc => match self.vpcs(a, f()).await?.into_iter().next() {
                Some(v) => {
                    let o = vpc_obs(&v);
                    self.vpc_dns_as_specified(spec, &o.physical_id).await?.then_some(o)
                }
                None => None,
            },
            ResourceKind::InternetGateway => {
                self.igws(a, f()).await?.iter().find(|g| g.attachments().iter().any(|x| x.vpc_id().is_some())).map(igw_obs)
            }
            ResourceKind::Subnet => {
                let public = prop_bool(spec, "public", false);
                self.subnets(a, f()).await?.iter().find(|s| s.map_public_ip_on_launch().unwrap_or(false) == public).map(subnet_obs)
            }
            ResourceKind::RouteTable => {
                let n = prop_list(spec, "subnets").len();
                let complete = |r: &&RouteTable| {
                    r.routes().iter().any(|x| x.destination_cidr_block() == Some("0.0.0.0/0") && x.gateway_id().is_some())
                        && r.associations().iter().filter(|x| x.subnet_id().is_some()).count() >= n
                };
                self.route_tables(a, f()).await?.iter().find(complete).map(rt_obs)
            }
            ResourceKind::SecurityGroup => {
                let want = spec_rules(spec)?;
                self.security_groups(a, f()).await?.iter().find(|g| want.iter().all(|r| existing_rules(g).contains(r))).map(sg_obs)
            }
            ResourceKind::KeyPair => {
                let mut ks = self.key_pairs(a, f()).await?;
                ks.sort_by_key(|k| k.create_time().map(|t| (t.secs(), t.subsec_nanos())));
                ks.first().map(key_obs)
            }
            ResourceKind::Instance => {
                let mut is = self.instances(a, f()).await?;
                is.sort_by_key(|i| i.launch_time().map(|t| (t.secs(), t.subsec_nanos())));
                is.first().map(inst_obs)
            }
            _ => None,
        };
        if found.is_none() {
            tracing::debug!(kind = ?spec.kind, id = %spec.id, "not found (or not finished)");
        }
        Ok(found)
    }

    /// True when the VPC's DNS support and DNS hostnames are what the spec asks.
    async fn vpc_dns_as_specified(&self, spec: &ResourceSpec, vpc: &str) -> Result<bool, ProvisionError> {
        let a = about(spec);
        for (attr, key) in [(VpcAttributeName::EnableDnsSupport, "enableDnsSupport"), (VpcAttributeName::EnableDnsHostnames, "enableDnsHostnames")] {
            let out = self.ec2.describe_vpc_attribute().vpc_id(vpc).attribute(attr.clone()).send().await.map_err(|e| fault::map(a, &e))?;
            let value = match attr {
                VpcAttributeName::EnableDnsSupport => out.enable_dns_support().and_then(|v| v.value()),
                _ => out.enable_dns_hostnames().and_then(|v| v.value()),
            };
            if value.unwrap_or(false) != prop_bool(spec, key, true) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    pub(crate) async fn ec2_describe(&self, kind: ResourceKind, id: &str) -> Result<Option<Observed>, ProvisionError> {
        let a = About { kind, name: id };
        Ok(match kind {
            ResourceKind::Vpc => self.vpcs(a, Q::Id(id)).await?.first().map(vpc_obs),
            ResourceKind::InternetGateway => self.igws(a, Q::Id(id)).await?.first().map(igw_obs),
            ResourceKind::Subnet => self.subnets(a, Q::Id(id)).await?.first().map(subnet_obs),
            ResourceKind::RouteTable => self.route_tables(a, Q::Id(id)).await?.first().map(rt_obs),
            ResourceKind::SecurityGroup => self.security_groups(a, Q::Id(id)).await?.first().map(sg_obs),
            ResourceKind::KeyPair => self.key_pairs(a, Q::Id(id)).await?.first().map(key_obs),
            ResourceKind::Instance => {
                self.instances(a, Q::Id(id)).await?.iter().find(|i| instance_state(i) != "terminated").map(inst_obs)
            }
            _ => None,
        })
    }

    pub(crate) async fn ec2_list(&self, project: &str) -> Result<Vec<Observed>, ProvisionError> {
        let a = |kind| About { kind, name: "(listing)" };
        let f = || Q::Filters(tag_filters(project, None));
        let mut out: Vec<Observed> = vec![];
        out.extend(self.vpcs(a(ResourceKind::Vpc), f()).await?.iter().map(vpc_obs));
        out.extend(self.igws(a(ResourceKind::InternetGateway), f()).await?.iter().map(igw_obs));
        out.extend(self.subnets(a(ResourceKind::Subnet), f()).await?.iter().map(subnet_obs));
        out.extend(self.route_tables(a(ResourceKind::RouteTable), f()).await?.iter().map(rt_obs));
        out.extend(self.security_groups(a(ResourceKind::SecurityGroup), f()).await?.iter().map(sg_obs));
        out.extend(self.key_pairs(a(ResourceKind::KeyPair), f()).await?.iter().map(key_obs));
        out.extend(self.instances(a(ResourceKind::Instance), f()).await?.iter().map(inst_obs));
        Ok(out)
    }

    // --- create ------------------------------------------------------------------------------

    pub(crate) async fn ec2_create(&self, spec: &ResourceSpec, ctx: &CreateCtx<'_>) -> Result<Created, ProvisionError> {
        let a = about(spec);
        let p = ctx.project;
        let found = || Q::Filters(tag_filters(p, Some(&spec.id)));
        let mut secret = None;
        let mut obs = match spec.kind {
            ResourceKind::Vpc => {
                let vpc = match self.vpcs(a, found()).await?.into_iter().next() {
                    Some(v) => v,
                    None => {
                        let out = self
                            .ec2
                            .create_vpc()
                            .cidr_block(prop_str(spec, "cidr")?)
                            .tag_specifications(tag_spec(ResourceType::Vpc, p, spec))
                            .send()
                            .await
                            .map_err(|e| fault::map(a, &e))?;
                        out.vpc().cloned().ok_or_else(|| a.fatal("CreateVpc returned no VPC"))?
                    }
                };
                let id = vpc.vpc_id().unwrap_or_default();
                // Support first: hostnames need it.
                let on = |v: bool| AttributeBooleanValue::builder().value(v).build();
                self.ec2
                    .modify_vpc_attribute()
                    .vpc_id(id)
                    .enable_dns_support(on(prop_bool(spec, "enableDnsSupport", true)))
                    .send()
                    .await
                    .map_err(|e| fault::map(a, &e))?;
                self.ec2
                    .modify_vpc_attribute()
                    .vpc_id(id)
                    .enable_dns_hostnames(on(prop_bool(spec, "enableDnsHostnames", true)))
                    .send()
                    .await
                    .map_err(|e| fault::map(a, &e))?;
                vpc_obs(&vpc)
            }
            ResourceKind::InternetGateway => {
                let vpc = dep_id(spec, ctx, "vpc")?;
                let igw = match self.igws(a, found()).await?.into_iter().next() {
                    Some(g) => g,
                    None => {
                        let out = self
                            .ec2
                            .create_internet_gateway()
                            .tag_specifications(tag_spec(ResourceType::InternetGateway, p, spec))
                            .send()
                            .await
                            .map_err(|e| fault::map(a, &e))?;
                        out.internet_gateway().cloned().ok_or_else(|| a.fatal("CreateInternetGateway returned no gateway"))?
                    }
                };
                let id = igw.internet_gateway_id().unwrap_or_default();
                match igw.attachments().iter().find_map(|x| x.vpc_id()) {
                    Some(v) if v == vpc => {}
                    Some(other) => return Err(a.fatal(format!("{id} is attached to {other}, not to {vpc}"))),
                    None => {
                        self.ec2
                            .attach_internet_gateway()
                            .internet_gateway_id(id)
                            .vpc_id(vpc)
                            .send()
                            .await
                            .map_err(|e| fault::map(a, &e))?;
                    }
                }
                let mut o = igw_obs(&igw);
                o.state = "attached".into();
                o.attrs["vpcId"] = json!(vpc);
                o
            }
            ResourceKind::Subnet => {
                let vpc = dep_id(spec, ctx, "vpc")?;
                let subnet = match self.subnets(a, found()).await?.into_iter().next() {
                    Some(s) => s,
                    None => {
                        let out = self
                            .ec2
                            .create_subnet()
                            .vpc_id(vpc)
                            .cidr_block(prop_str(spec, "cidr")?)
                            .availability_zone(prop_str(spec, "az")?)
                            .tag_specifications(tag_spec(ResourceType::Subnet, p, spec))
                            .send()
                            .await
                            .map_err(|e| fault::map(a, &e))?;
                        out.subnet().cloned().ok_or_else(|| a.fatal("CreateSubnet returned no subnet"))?
                    }
                };
                let public = prop_bool(spec, "public", false);
                if subnet.map_public_ip_on_launch().unwrap_or(false) != public {
                    self.ec2
                        .modify_subnet_attribute()
                        .subnet_id(subnet.subnet_id().unwrap_or_default())
                        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(public).build())
                        .send()
                        .await
                        .map_err(|e| fault::map(a, &e))?;
                }
                let mut o = subnet_obs(&subnet);
                o.attrs["public"] = json!(public);
                o
            }
            ResourceKind::RouteTable => {
                let vpc = dep_id(spec, ctx, "vpc")?;
                let igw = dep_id(spec, ctx, "internetGateway")?;
                let subnets = dep_ids(spec, ctx, "subnets")?;
                let rt = match self.route_tables(a, found()).await?.into_iter().next() {
                    Some(r) => r,
                    None => {
                        let out = self
                            .ec2
                            .create_route_table()
                            .vpc_id(vpc)
                            .tag_specifications(tag_spec(ResourceType::RouteTable, p, spec))
                            .send()
                            .await
                            .map_err(|e| fault::map(a, &e))?;
                        out.route_table().cloned().ok_or_else(|| a.fatal("CreateRouteTable returned no route table"))?
                    }
                };
                let id = rt.route_table_id().unwrap_or_default();
                let default = rt.routes().iter().find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"));
                match default.and_then(|r| r.gateway_id()) {
                    Some(g) if g == igw => {}
                    Some(_) => {
                        self.ec2
                            .replace_route()
                            .route_table_id(id)
                            .destination_cidr_block("0.0.0.0/0")
                            .gateway_id(igw)
                            .send()
                            .await
                            .map_err(|e| fault::map(a, &e))?;
                    }
                    None => {
                        self.ec2
                            .create_route()
                            .route_table_id(id)
                            .destination_cidr_block("0.0.0.0/0")
                            .gateway_id(igw)
                            .send()
                            .await
                            .map_err(|e| fault::map(a, &e))?;
                    }
                }
                for s in &subnets {
                    if !rt.associations().iter().any(|x| x.subnet_id() == Some(s.as_str())) {
                        self.ec2.associate_route_table().route_table_id(id).subnet_id(s).send().await.map_err(|e| fault::map(a, &e))?;
                    }
                }
                let mut o = rt_obs(&rt);
                o.attrs["subnetIds"] = json!(subnets);
                o.attrs["defaultGateway"] = json!(igw);
                o
            }
            ResourceKind::SecurityGroup => {
                let vpc = dep_id(spec, ctx, "vpc")?;
                let want = spec_rules(spec)?;
                let sg = match self.security_groups(a, found()).await?.into_iter().next() {
                    Some(g) => g,
                    None => {
                        let description = spec.props["description"].as_str().unwrap_or(&spec.name);
                        let out = self
                            .ec2
                            .create_security_group()
                            .group_name(&spec.name)
                            .description(description)
                            .vpc_id(vpc)
                            .tag_specifications(tag_spec(ResourceType::SecurityGroup, p, spec))
                            .send()
                            .await
                            .map_err(|e| match fault::code(&e) {
                                Some("InvalidGroup.Duplicate") => {
                                    a.fatal(format!("a security group named {} already exists in {vpc} and is not tagged for project {p}", spec.name))
                                }
                                _ => fault::map(a, &e),
                            })?;
                        SecurityGroup::builder()
                            .set_group_id(out.group_id().map(str::to_string))
                            .group_name(&spec.name)
                            .vpc_id(vpc)
                            .set_tags(Some(our_tags(p, spec).iter().map(|(k, v)| Tag::builder().key(*k).value(v).build()).collect()))
                            .build()
                    }
                };
                let have = existing_rules(&sg);
                let id = sg.group_id().unwrap_or_default();
                for (proto, from, to, cidr) in want.iter().filter(|r| !have.contains(r)) {
                    let perm = IpPermission::builder()
                        .ip_protocol(proto)
                        .from_port(*from)
                        .to_port(*to)
                        .ip_ranges(IpRange::builder().cidr_ip(cidr).build())
                        .build();
                    match self.ec2.authorize_security_group_ingress().group_id(id).ip_permissions(perm).send().await {
                        Ok(_) => {}
                        Err(e) if fault::code(&e) == Some("InvalidPermission.Duplicate") => {}
                        Err(e) => return Err(fault::map(a, &e)),
                    }
                }
                sg_obs(&sg)
            }
            ResourceKind::KeyPair => {
                if let Some(k) = self.key_pairs(a, found()).await?.first() {
                    return Err(a.fatal(format!(
                        "key pair {} already exists and its private key was handed out only when it was made; delete the key pair to make a new one",
                        k.key_name().unwrap_or_default()
                    )));
                }
                let out = self
                    .ec2
                    .create_key_pair()
                    .key_name(&spec.name)
                    .tag_specifications(tag_spec(ResourceType::KeyPair, p, spec))
                    .send()
                    .await
                    .map_err(|e| match fault::code(&e) {
                        Some("InvalidKeyPair.Duplicate") => a.fatal(format!("a key pair named {} already exists and is not tagged for project {p}", spec.name)),
                        _ => fault::map(a, &e),
                    })?;
                secret = out.key_material().map(Secret::new);
                if secret.is_none() {
                    return Err(a.fatal("CreateKeyPair returned no private key"));
                }
                let info = KeyPairInfo::builder()
                    .set_key_name(out.key_name().map(str::to_string))
                    .set_key_pair_id(out.key_pair_id().map(str::to_string))
                    .set_key_fingerprint(out.key_fingerprint().map(str::to_string))
                    .build();
                key_obs(&info)
            }
            ResourceKind::Instance => {
                if let Some(i) = self.instances(a, found()).await?.first() {
                    inst_obs(i)
                } else {
                    self.run_instance(spec, ctx).await?
                }
            }
            _ => return Err(a.fatal("not an EC2 resource")),
        };
        obs.logical_id = Some(spec.id.clone());
        Ok(Created { observed: obs, secret })
    }

    /// `ami` as an AMI id: `resolve:ssm:<parameter>` is read from SSM.
    async fn resolve_ami(&self, spec: &ResourceSpec, ami: &str) -> Result<String, ProvisionError> {
        let a = about(spec);
        let Some(param) = ami.strip_prefix("resolve:ssm:") else { return Ok(ami.to_string()) };
        let out = self.ssm.get_parameter().name(param).send().await.map_err(|e| match fault::code(&e) {
            Some("ParameterNotFound") => a.fatal(format!("the AMI parameter {param} does not exist in this region")),
            _ => fault::map(a, &e),
        })?;
        out.parameter().and_then(|p| p.value()).map(str::to_string).ok_or_else(|| a.fatal(format!("the AMI parameter {param} has no value")))
    }

    async fn run_instance(&self, spec: &ResourceSpec, ctx: &CreateCtx<'_>) -> Result<Observed, ProvisionError> {
        let a = about(spec);
        let p = ctx.project;
        let subnet = dep_id(spec, ctx, "subnet")?;
        let sgs = dep_ids(spec, ctx, "securityGroups")?;
        let key = match spec.props["keyPair"].as_str() {
            Some(_) => Some(dep_id(spec, ctx, "keyPair")?),
            None => None,
        };
        let itype = prop_str(spec, "instanceType")?;
        let ami = self.resolve_ami(spec, prop_str(spec, "ami")?).await?;
        let user_data = spec.props["userData"].as_str().unwrap_or_default();
        let sg_list = sgs.join(",");
        let mut token = client_token(p, &spec.id, &[itype, &ami, subnet, &sg_list, key.unwrap_or_default(), user_data]);
        // A token reused after the instance it made was terminated (within AWS's idempotency
        // window) answers with that dead instance: derive the next token from it and ask again.
        for _ in 0..4 {
            let mut req = self
                .ec2
                .run_instances()
                .image_id(&ami)
                .instance_type(InstanceType::from(itype))
                .min_count(1)
                .max_count(1)
                .subnet_id(subnet)
                .set_security_group_ids(Some(sgs.clone()))
                .set_key_name(key.map(str::to_string))
                .client_token(&token)
                .tag_specifications(tag_spec(ResourceType::Instance, p, spec))
                .tag_specifications(tag_spec(ResourceType::Volume, p, spec));
            if !user_data.is_empty() {
                req = req.user_data(base64::engine::general_purpose::STANDARD.encode(user_data));
            }
            let out = req.send().await.map_err(|e| fault::map(a, &e))?;
            let inst = out.instances().first().ok_or_else(|| a.fatal("RunInstances returned no instance"))?;
            let state = instance_state(inst);
            if state == InstanceStateName::Terminated.as_str() || state == InstanceStateName::ShuttingDown.as_str() {
                token = client_token(p, &spec.id, &[&token, inst.instance_id().unwrap_or_default()]);
                continue;
            }
            return Ok(inst_obs(inst));
        }
        Err(a.fatal("RunInstances keeps answering with terminated instances for this request"))
    }

    /// Instance type change: stop, modify, start (resumable: each step looks at the current
    /// state first, so a retry after a throttled step continues where it stopped). Returns once
    /// the instance is starting with the new type; the executor waits for `running`.
    pub(crate) async fn instance_update(&self, spec: &ResourceSpec, current: &Observed) -> Result<Observed, ProvisionError> {
        let a = about(spec);
        let id = current.physical_id.as_str();
        let want = prop_str(spec, "instanceType")?;
        let started = std::time::Instant::now();
        let mut actions = 0;
        loop {
            let inst = self.instances(a, Q::Id(id)).await?.into_iter().next().ok_or_else(|| a.fatal(format!("{id} is gone")))?;
            let state = instance_state(&inst).to_string();
            let is = inst.instance_type().map(|t| t.as_str()).unwrap_or_default();
            let mut wait = actions >= 3;
            match state.as_str() {
                "running" | "pending" if is == want => return Ok(inst_obs(&inst)),
                "stopped" if is == want => {
                    self.ec2.start_instances().instance_ids(id).send().await.map_err(|e| fault::map(a, &e))?;
                    actions += 1;
                }
                "stopped" => {
                    self.ec2
                        .modify_instance_attribute()
                        .instance_id(id)
                        .instance_type(AttributeValue::builder().value(want).build())
                        .send()
                        .await
                        .map_err(|e| fault::map(a, &e))?;
                    actions += 1;
                }
                "running" => {
                    tracing::info!(instance = id, from = is, to = want, "stopping the instance to change its type");
                    self.ec2.stop_instances().instance_ids(id).send().await.map_err(|e| fault::map(a, &e))?;
                    actions += 1;
                }
                "stopping" | "pending" => wait = true,
                other => return Err(a.fatal(format!("{id} is {other}; its instance type cannot be changed now"))),
            }
            if wait {
                if started.elapsed() > std::time::Duration::from_secs(900) {
                    return Err(a.not_yet(format!("{id} is still {state} after {} s", started.elapsed().as_secs())));
                }
                tokio::time::sleep(self.poll_every).await;
            }
        }
    }

    // --- delete ------------------------------------------------------------------------------

    pub(crate) async fn ec2_delete(&self, o: &Observed) -> Result<(), ProvisionError> {
        let a = about_obs(o);
        let id = o.physical_id.as_str();
        // Gone already is fine: the delete calls' NotFound codes map to Ok.
        let gone_ok = |r: Result<(), ProvisionError>, nf: bool| if nf { Ok(()) } else { r };
        match o.kind {
            ResourceKind::Vpc => match self.ec2.delete_vpc().vpc_id(id).send().await {
                Ok(_) => Ok(()),
                Err(e) => gone_ok(Err(fault::map(a, &e)), fault::is_not_found(&e)),
            },
            ResourceKind::InternetGateway => {
                let Some(igw) = self.igws(a, Q::Id(id)).await?.into_iter().next() else { return Ok(()) };
                for vpc in igw.attachments().iter().filter_map(|x| x.vpc_id()) {
                    match self.ec2.detach_internet_gateway().internet_gateway_id(id).vpc_id(vpc).send().await {
                        Ok(_) => {}
                        Err(e) if fault::is_not_found(&e) || fault::code(&e) == Some("Gateway.NotAttached") => {}
                        Err(e) => return Err(fault::map(a, &e)),
                    }
                }
                match self.ec2.delete_internet_gateway().internet_gateway_id(id).send().await {
                    Ok(_) => Ok(()),
                    Err(e) => gone_ok(Err(fault::map(a, &e)), fault::is_not_found(&e)),
                }
            }
            ResourceKind::Subnet => match self.ec2.delete_subnet().subnet_id(id).send().await {
                Ok(_) => Ok(()),
                Err(e) => gone_ok(Err(fault::map(a, &e)), fault::is_not_found(&e)),
            },
            ResourceKind::RouteTable => {
                let Some(rt) = self.route_tables(a, Q::Id(id)).await?.into_iter().next() else { return Ok(()) };
                for assoc in rt.associations().iter().filter(|x| x.main() != Some(true)).filter_map(|x| x.route_table_association_id()) {
                    match self.ec2.disassociate_route_table().association_id(assoc).send().await {
                        Ok(_) => {}
                        Err(e) if fault::is_not_found(&e) => {}
                        Err(e) => return Err(fault::map(a, &e)),
                    }
                }
                match self.ec2.delete_route_table().route_table_id(id).send().await {
                    Ok(_) => Ok(()),
                    Err(e) => gone_ok(Err(fault::map(a, &e)), fault::is_not_found(&e)),
                }
            }
            ResourceKind::SecurityGroup => match self.ec2.delete_security_group().group_id(id).send().await {
                Ok(_) => Ok(()),
                Err(e) => gone_ok(Err(fault::map(a, &e)), fault::is_not_found(&e)),
            },
            ResourceKind::KeyPair => match self.ec2.delete_key_pair().key_name(id).send().await {
                Ok(_) => Ok(()),
                Err(e) => gone_ok(Err(fault::map(a, &e)), fault::is_not_found(&e)),
            },
            ResourceKind::Instance => match self.ec2.terminate_instances().instance_ids(id).send().await {
                Ok(_) => Ok(()),
                Err(e) => gone_ok(Err(fault::map(a, &e)), fault::is_not_found(&e)),
            },
            _ => Err(a.fatal("not an EC2 resource")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sg_spec(ingress: serde_json::Value) -> ResourceSpec {
        ResourceSpec {
            id: "sg".into(),
            kind: ResourceKind::SecurityGroup,
            name: "p-sg".into(),
            depends_on: vec![],
            props: json!({"vpc": "vpc", "ingress": ingress}),
            expected_secs: 1,
        }
    }

    #[test]
    fn ingress_rules_are_read_from_the_props_and_a_bad_one_is_named() {
        let r = spec_rules(&sg_spec(json!([{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidr": "1.2.3.4/32"}]))).unwrap();
        assert_eq!(r, vec![("tcp".to_string(), 22, 22, "1.2.3.4/32".to_string())]);
        let e = spec_rules(&sg_spec(json!([{"protocol": "tcp", "fromPort": 22}]))).unwrap_err();
        assert!(matches!(&e, ProvisionError::Fatal(m) if m.starts_with("Security group p-sg: ingress rule")), "{e:?}");
    }

    #[test]
    fn an_instance_reports_its_attrs_and_logical_id() {
        use aws_sdk_ec2::types::{InstanceState, Placement};
        let i = Instance::builder()
            .instance_id("i-1")
            .instance_type(InstanceType::from("t3.small"))
            .state(InstanceState::builder().name(InstanceStateName::Running).build())
            .public_ip_address("54.1.2.3")
            .private_ip_address("10.0.0.4")
            .placement(Placement::builder().availability_zone("us-east-1a").build())
            .tags(Tag::builder().key(TAG_RESOURCE).value("vm-ci").build())
            .build();
        let o = inst_obs(&i);
        assert_eq!(o.logical_id.as_deref(), Some("vm-ci"));
        assert!(o.ready);
        assert_eq!(o.attrs["instanceType"], "t3.small");
        assert_eq!(o.attrs["publicIp"], "54.1.2.3");
        assert_eq!(o.attrs["privateIp"], "10.0.0.4");
    }
}
