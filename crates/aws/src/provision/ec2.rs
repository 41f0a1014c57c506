//! EC2: VPC, internet gateway, subnet, route table, Elastic IP, NAT gateway, security group, key
//! pair, launch template, instance. Physical ids: the EC2 ids (vpc-, igw-, subnet-, rtb-,
//! eipalloc-, nat-, sg-, lt-, i-), and the key name for key pairs (what RunInstances takes).
//!
//! Every kind is looked up the same way ([`Ec2Object`]): by id (gone is an empty answer), or by
//! tag filters over every page, with the tags checked again on what comes back (the emulator
//! ignores tag filters on some calls, e.g. DescribeNatGateways).

use std::future::Future;

use aws_sdk_ec2::types::{
    Address, AttributeBooleanValue, AttributeValue, DomainType, Filter, HttpTokensState, Instance, InstanceMetadataEndpointState,
    InstanceMetadataOptionsRequest, InstanceStateName, InstanceType, InternetGateway, IpPermission, IpRange, KeyPairInfo, LaunchTemplate,
    LaunchTemplateHttpTokensState, LaunchTemplateInstanceMetadataEndpointState, LaunchTemplateInstanceMetadataOptionsRequest, NatGateway,
    RequestLaunchTemplateData, ResourceType, RouteTable, SecurityGroup, Subnet, Tag, TagSpecification, Vpc, VpcAttributeName,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use base64::Engine;
use serde_json::json;
use slipway_core::provision::{CreateCtx, Created, Observed, ProvisionError, ResourceKind, ResourceSpec, TAG_PROJECT, TAG_RESOURCE};
use slipway_core::secrets::Secret;

use super::fault::{self, About};
use super::{about, about_obs, client_token, dep_id, dep_ids, observed, our_tags, prop_bool, prop_list, prop_str, tagged, AwsDriver, Tags};

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

/// The spec's own tags (`tags` prop: the subnets' load-balancer discovery tags).
fn extra_tags(spec: &ResourceSpec) -> Vec<(String, String)> {
    spec.props["tags"].as_object().into_iter().flatten().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect()
}

/// Slipway's three tags and the spec's own, for the create call.
fn tag_spec(rt: ResourceType, project: &str, spec: &ResourceSpec) -> TagSpecification {
    let mut b = TagSpecification::builder().resource_type(rt);
    for (k, v) in our_tags(project, spec).into_iter().map(|(k, v)| (k.to_string(), v)).chain(extra_tags(spec)) {
        b = b.tags(Tag::builder().key(k).value(v).build());
    }
    b.build()
}

/// True when the object carries every tag the spec asks for beyond Slipway's own.
fn has_extra_tags(have: &Tags, spec: &ResourceSpec) -> bool {
    extra_tags(spec).iter().all(|(k, v)| have.get(k) == Some(v))
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
    let gw = default_route(r);
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

/// Where a route table sends 0.0.0.0/0: an internet gateway or a NAT gateway.
fn default_route(r: &RouteTable) -> Option<&str> {
    r.routes().iter().find(|x| x.destination_cidr_block() == Some("0.0.0.0/0")).and_then(|x| x.gateway_id().or(x.nat_gateway_id()))
}

fn eip_obs(e: &Address) -> Observed {
    let state = if e.association_id().is_some() { "associated" } else { "allocated" };
    observed(
        ResourceKind::ElasticIp,
        e.allocation_id().unwrap_or_default(),
        state,
        true,
        false,
        json!({"publicIp": e.public_ip(), "associationId": e.association_id()}),
        &tags(e.tags()),
    )
}

/// NAT gateway states after which it is no longer there for use.
const NAT_GONE: &[&str] = &["deleting", "deleted"];

fn nat_obs(n: &NatGateway) -> Observed {
    let state = n.state().map(|s| s.as_str()).unwrap_or("unknown");
    let addr = n.nat_gateway_addresses().first();
    observed(
        ResourceKind::NatGateway,
        n.nat_gateway_id().unwrap_or_default(),
        state,
        state == "available",
        state == "failed",
        json!({
            "subnetId": n.subnet_id(),
            "vpcId": n.vpc_id(),
            "allocationId": addr.and_then(|a| a.allocation_id()),
            "publicIp": addr.and_then(|a| a.public_ip()),
            "failure": n.failure_message(),
        }),
        &tags(n.tags()),
    )
}

fn lt_obs(t: &LaunchTemplate) -> Observed {
    observed(
        ResourceKind::LaunchTemplate,
        t.launch_template_id().unwrap_or_default(),
        "available",
        true,
        false,
        json!({"name": t.launch_template_name(), "version": t.latest_version_number().map(|v| v.to_string())}),
        &tags(t.tags()),
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
            "httpTokens": i.metadata_options().and_then(|m| m.http_tokens()).map(|t| t.as_str()),
            "httpPutResponseHopLimit": i.metadata_options().and_then(|m| m.http_put_response_hop_limit()),
        }),
        &tags(i.tags()),
    )
}

/// IMDS settings for RunInstances from the `metadataOptions` prop (none: AWS's defaults).
fn metadata_options(spec: &ResourceSpec) -> Option<InstanceMetadataOptionsRequest> {
    let m = spec.props["metadataOptions"].as_object()?;
    Some(
        InstanceMetadataOptionsRequest::builder()
            .set_http_tokens(m.get("httpTokens").and_then(|v| v.as_str()).map(HttpTokensState::from))
            .set_http_put_response_hop_limit(m.get("httpPutResponseHopLimit").and_then(|v| v.as_i64()).map(|n| n as i32))
            .set_http_endpoint(m.get("httpEndpoint").and_then(|v| v.as_str()).map(InstanceMetadataEndpointState::from))
            .build(),
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

/// An answer by id: the objects, or none when AWS says it does not exist.
fn by_id<T, E>(a: About<'_>, r: Result<Vec<T>, SdkError<E, HttpResponse>>) -> Result<Vec<T>, ProvisionError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    Ok(fault::found(a, r)?.unwrap_or_default())
}

/// One kind of EC2 object the blueprint makes: how it is looked up and what the executor sees.
trait Ec2Object: Sized + Send {
    const KIND: ResourceKind;
    fn obs(&self) -> Observed;
    fn tag_map(&self) -> Tags;
    /// By id (empty when it does not exist) or by filters (every page).
    fn lookup(d: &AwsDriver, a: About<'_>, q: Q<'_>) -> impl Future<Output = Result<Vec<Self>, ProvisionError>> + Send;
}

/// `Ec2Object` for an SDK type: its kind, its observation, and how its Describe call is made.
/// `paged`: the call takes ids, filters and pages; `unpaged`: it answers with everything at once.
macro_rules! ec2_object {
    ($ty:ty, $kind:ident, $obs:ident, |$d:ident, $a:ident, $q:ident| $lookup:block) => {
        impl Ec2Object for $ty {
            const KIND: ResourceKind = ResourceKind::$kind;
            fn obs(&self) -> Observed {
                $obs(self)
            }
            fn tag_map(&self) -> Tags {
                tags(self.tags())
            }
            async fn lookup($d: &AwsDriver, $a: About<'_>, $q: Q<'_>) -> Result<Vec<Self>, ProvisionError> $lookup
        }
    };
    (paged $ty:ty, $kind:ident, $obs:ident, $op:ident, $ids:ident, $items:ident, $set_filters:ident) => {
        ec2_object!($ty, $kind, $obs, |d, a, q| {
            match q {
                Q::Id(id) => by_id(a, d.ec2.$op().$ids(id).send().await.map(|o| o.$items().to_vec())),
                Q::Filters(f) => d.ec2.$op().$set_filters(Some(f)).into_paginator().items().send().try_collect().await.map_err(|e| fault::map(a, &e)),
            }
        });
    };
    (unpaged $ty:ty, $kind:ident, $obs:ident, $op:ident, $ids:ident, $items:ident) => {
        ec2_object!($ty, $kind, $obs, |d, a, q| {
            let req = match q {
                Q::Id(id) => d.ec2.$op().$ids(id),
                Q::Filters(f) => d.ec2.$op().set_filters(Some(f)),
            };
            by_id(a, req.send().await.map(|o| o.$items().to_vec()))
        });
    };
}

ec2_object!(paged Vpc, Vpc, vpc_obs, describe_vpcs, vpc_ids, vpcs, set_filters);
ec2_object!(paged InternetGateway, InternetGateway, igw_obs, describe_internet_gateways, internet_gateway_ids, internet_gateways, set_filters);
ec2_object!(paged Subnet, Subnet, subnet_obs, describe_subnets, subnet_ids, subnets, set_filters);
ec2_object!(paged RouteTable, RouteTable, rt_obs, describe_route_tables, route_table_ids, route_tables, set_filters);
ec2_object!(paged SecurityGroup, SecurityGroup, sg_obs, describe_security_groups, group_ids, security_groups, set_filters);
// DescribeNatGateways calls its filters `Filter`.
ec2_object!(paged NatGateway, NatGateway, nat_obs, describe_nat_gateways, nat_gateway_ids, nat_gateways, set_filter);
ec2_object!(paged LaunchTemplate, LaunchTemplate, lt_obs, describe_launch_templates, launch_template_ids, launch_templates, set_filters);
ec2_object!(unpaged KeyPairInfo, KeyPair, key_obs, describe_key_pairs, key_names, key_pairs);
ec2_object!(unpaged Address, ElasticIp, eip_obs, describe_addresses, allocation_ids, addresses);
// Instances: all states for an id, only live ones for filters, out of their reservations.
ec2_object!(Instance, Instance, inst_obs, |d, a, q| {
    let reservations = match q {
        Q::Id(id) => by_id(a, d.ec2.describe_instances().instance_ids(id).send().await.map(|o| o.reservations().to_vec()))?,
        Q::Filters(mut f) => {
            f.push(filter("instance-state-name", LIVE_INSTANCE_STATES));
            d.ec2.describe_instances().set_filters(Some(f)).into_paginator().items().send().try_collect().await.map_err(|e| fault::map(a, &e))?
        }
    };
    Ok(reservations.iter().flat_map(|r| r.instances().iter().cloned()).collect())
});

impl AwsDriver {
    pub(crate) async fn azs(&self) -> Result<Vec<String>, ProvisionError> {
        let a = About { kind: ResourceKind::Subnet, name: "zones" };
        // "Availability zones: <code>: <message>", not "Subnet zones: ...".
        let relabel = |m: String| m.replacen("Subnet zones", "Availability zones", 1);
        let out = self.ec2.describe_availability_zones().send().await.map_err(|e| match fault::map(a, &e) {
            ProvisionError::Retryable(m) => ProvisionError::Retryable(relabel(m)),
            ProvisionError::NotYet(m) => ProvisionError::NotYet(relabel(m)),
            ProvisionError::Fatal(m) => ProvisionError::Fatal(relabel(m)),
            ProvisionError::Quota { why, fix } => ProvisionError::Quota { why: relabel(why), fix },
        })?;
        let mut names: Vec<String> = out.availability_zones().iter().filter_map(|z| z.zone_name().map(str::to_string)).collect();
        names.sort();
        Ok(names)
    }

    /// The objects of a kind tagged for the project (and, when given, that resource): the tag
    /// filters narrow the answer, and the tags are checked again on what comes back.
    async fn tagged<T: Ec2Object>(&self, a: About<'_>, project: &str, resource: Option<&str>) -> Result<Vec<T>, ProvisionError> {
        let all = T::lookup(self, a, Q::Filters(tag_filters(project, resource))).await?;
        Ok(all.into_iter().filter(|o| tagged(&o.tag_map(), project, resource)).collect())
    }

    /// The object with this id, if it exists.
    async fn one<T: Ec2Object>(&self, a: About<'_>, id: &str) -> Result<Option<T>, ProvisionError> {
        Ok(T::lookup(self, a, Q::Id(id)).await?.into_iter().next())
    }

    /// Every object of a kind tagged for the project, as the executor sees them.
    async fn listed<T: Ec2Object>(&self, project: &str) -> Result<Vec<Observed>, ProvisionError> {
        let a = About { kind: T::KIND, name: "(listing)" };
        Ok(self.tagged::<T>(a, project, None).await?.iter().map(T::obs).collect())
    }

    /// Adds the spec's own tags to an object made before they were asked for.
    async fn ensure_tags(&self, a: About<'_>, id: &str, have: &Tags, spec: &ResourceSpec) -> Result<(), ProvisionError> {
        let missing: Vec<Tag> = extra_tags(spec).into_iter().filter(|(k, v)| have.get(k) != Some(v)).map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
        if !missing.is_empty() {
            self.ec2.create_tags().resources(id).set_tags(Some(missing)).send().await.map_err(|e| fault::map(a, &e))?;
        }
        Ok(())
    }

    /// The resource of the spec by its tags. One whose create stopped half-way (the gateway not
    /// attached, rules or routes missing, DNS attributes unset) is reported as not found, so
    /// that the executor calls `create` again, which finds it by its tags and finishes it.
    pub(crate) async fn ec2_find(&self, project: &str, spec: &ResourceSpec) -> Result<Option<Observed>, ProvisionError> {
        let a = about(spec);
        let mine = Some(spec.id.as_str());
        // Tags the spec adds (the subnets' discovery tags) are part of being finished.
        let done = |t: &Tags| has_extra_tags(t, spec);
        let found = match spec.kind {
            ResourceKind::Vpc => match self.tagged::<Vpc>(a, project, mine).await?.into_iter().next() {
                Some(v) => {
                    let o = vpc_obs(&v);
                    self.vpc_dns_as_specified(spec, &o.physical_id).await?.then_some(o)
                }
                None => None,
            },
            ResourceKind::InternetGateway => self
                .tagged::<InternetGateway>(a, project, mine)
                .await?
                .iter()
                .find(|g| g.attachments().iter().any(|x| x.vpc_id().is_some()))
                .map(igw_obs),
            ResourceKind::Subnet => {
                let public = prop_bool(spec, "public", false);
                self.tagged::<Subnet>(a, project, mine)
                    .await?
                    .iter()
                    .find(|s| s.map_public_ip_on_launch().unwrap_or(false) == public && done(&s.tag_map()))
                    .map(subnet_obs)
            }
            ResourceKind::RouteTable => {
                let n = prop_list(spec, "subnets").len();
                let complete = |r: &&RouteTable| {
                    default_route(r).is_some() && r.associations().iter().filter(|x| x.subnet_id().is_some()).count() >= n
                };
                self.tagged::<RouteTable>(a, project, mine).await?.iter().find(complete).map(rt_obs)
            }
            ResourceKind::SecurityGroup => {
                let want = spec_rules(spec)?;
                self.tagged::<SecurityGroup>(a, project, mine).await?.iter().find(|g| want.iter().all(|r| existing_rules(g).contains(r))).map(sg_obs)
            }
            ResourceKind::ElasticIp => self.tagged::<Address>(a, project, mine).await?.first().map(eip_obs),
            ResourceKind::NatGateway => self
                .tagged::<NatGateway>(a, project, mine)
                .await?
                .iter()
                .map(nat_obs)
                .find(|o| !o.failed && !NAT_GONE.contains(&o.state.as_str())),
            ResourceKind::KeyPair => {
                let mut ks = self.tagged::<KeyPairInfo>(a, project, mine).await?;
                ks.sort_by_key(|k| k.create_time().map(|t| (t.secs(), t.subsec_nanos())));
                ks.first().map(key_obs)
            }
            ResourceKind::LaunchTemplate => self.tagged::<LaunchTemplate>(a, project, mine).await?.first().map(lt_obs),
            ResourceKind::Instance => {
                let mut is = self.tagged::<Instance>(a, project, mine).await?;
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
            ResourceKind::Vpc => self.one::<Vpc>(a, id).await?.map(|o| o.obs()),
            ResourceKind::InternetGateway => self.one::<InternetGateway>(a, id).await?.map(|o| o.obs()),
            ResourceKind::Subnet => self.one::<Subnet>(a, id).await?.map(|o| o.obs()),
            ResourceKind::RouteTable => self.one::<RouteTable>(a, id).await?.map(|o| o.obs()),
            ResourceKind::ElasticIp => self.one::<Address>(a, id).await?.map(|o| o.obs()),
            ResourceKind::NatGateway => self.one::<NatGateway>(a, id).await?.map(|o| o.obs()),
            ResourceKind::SecurityGroup => self.one::<SecurityGroup>(a, id).await?.map(|o| o.obs()),
            ResourceKind::KeyPair => self.one::<KeyPairInfo>(a, id).await?.map(|o| o.obs()),
            ResourceKind::LaunchTemplate => self.one::<LaunchTemplate>(a, id).await?.map(|o| o.obs()),
            ResourceKind::Instance => {
                Instance::lookup(self, a, Q::Id(id)).await?.iter().find(|i| instance_state(i) != "terminated").map(inst_obs)
            }
            _ => None,
        })
    }

    pub(crate) async fn ec2_list(&self, project: &str) -> Result<Vec<Observed>, ProvisionError> {
        // Every kind's describe at once: plan and refresh wait for the slowest, not the sum.
        let (vpcs, igws, subnets, tables, eips, nats, groups, keys, templates, instances) = tokio::try_join!(
            self.listed::<Vpc>(project),
            self.listed::<InternetGateway>(project),
            self.listed::<Subnet>(project),
            self.listed::<RouteTable>(project),
            self.listed::<Address>(project),
            self.listed::<NatGateway>(project),
            self.listed::<SecurityGroup>(project),
            self.listed::<KeyPairInfo>(project),
            self.listed::<LaunchTemplate>(project),
            self.listed::<Instance>(project)
        )?;
        // A NAT gateway stays listed for an hour after its delete: it is gone for us.
        let nats = nats.into_iter().filter(|o| !NAT_GONE.contains(&o.state.as_str()));
        Ok(vpcs.into_iter().chain(igws).chain(subnets).chain(tables).chain(eips).chain(nats).chain(groups).chain(keys).chain(templates).chain(instances).collect())
    }

    // --- create ------------------------------------------------------------------------------

    pub(crate) async fn ec2_create(&self, spec: &ResourceSpec, ctx: &CreateCtx<'_>) -> Result<Created, ProvisionError> {
        let a = about(spec);
        let p = ctx.project;
        let mine = Some(spec.id.as_str());
        let mut secret = None;
        let mut obs = match spec.kind {
            ResourceKind::Vpc => {
                let vpc = match self.tagged::<Vpc>(a, p, mine).await?.into_iter().next() {
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
                let igw = match self.tagged::<InternetGateway>(a, p, mine).await?.into_iter().next() {
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
                let subnet = match self.tagged::<Subnet>(a, p, mine).await?.into_iter().next() {
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
                self.ensure_tags(a, subnet.subnet_id().unwrap_or_default(), &subnet.tag_map(), spec).await?;
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
                // 0.0.0.0/0 goes to the internet gateway (public) or to a NAT gateway (private).
                let (target, nat) = match spec.props["natGateway"].as_str() {
                    Some(_) => (dep_id(spec, ctx, "natGateway")?, true),
                    None => (dep_id(spec, ctx, "internetGateway")?, false),
                };
                let subnets = dep_ids(spec, ctx, "subnets")?;
                let rt = match self.tagged::<RouteTable>(a, p, mine).await?.into_iter().next() {
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
                match default_route(&rt) {
                    Some(g) if g == target => {}
                    Some(_) => {
                        let req = self.ec2.replace_route().route_table_id(id).destination_cidr_block("0.0.0.0/0");
                        let req = if nat { req.nat_gateway_id(target) } else { req.gateway_id(target) };
                        req.send().await.map_err(|e| fault::map(a, &e))?;
                    }
                    None => {
                        let req = self.ec2.create_route().route_table_id(id).destination_cidr_block("0.0.0.0/0");
                        let req = if nat { req.nat_gateway_id(target) } else { req.gateway_id(target) };
                        req.send().await.map_err(|e| fault::map(a, &e))?;
                    }
                }
                for s in &subnets {
                    if !rt.associations().iter().any(|x| x.subnet_id() == Some(s.as_str())) {
                        self.ec2.associate_route_table().route_table_id(id).subnet_id(s).send().await.map_err(|e| fault::map(a, &e))?;
                    }
                }
                let mut o = rt_obs(&rt);
                o.attrs["subnetIds"] = json!(subnets);
                o.attrs["defaultGateway"] = json!(target);
                o
            }
            ResourceKind::ElasticIp => match self.tagged::<Address>(a, p, mine).await?.into_iter().next() {
                Some(e) => eip_obs(&e),
                None => {
                    let out = self
                        .ec2
                        .allocate_address()
                        .domain(DomainType::Vpc)
                        .tag_specifications(tag_spec(ResourceType::ElasticIp, p, spec))
                        .send()
                        .await
                        .map_err(|e| fault::map(a, &e))?;
                    let addr = Address::builder()
                        .set_allocation_id(out.allocation_id().map(str::to_string))
                        .set_public_ip(out.public_ip().map(str::to_string))
                        .set_tags(Some(our_tags(p, spec).iter().map(|(k, v)| Tag::builder().key(*k).value(v).build()).collect()))
                        .build();
                    eip_obs(&addr)
                }
            },
            ResourceKind::NatGateway => {
                let live = self.tagged::<NatGateway>(a, p, mine).await?.into_iter().find(|n| {
                    let o = nat_obs(n);
                    !o.failed && !NAT_GONE.contains(&o.state.as_str())
                });
                match live {
                    Some(n) => nat_obs(&n),
                    None => {
                        let subnet = dep_id(spec, ctx, "subnet")?;
                        let eip = dep_id(spec, ctx, "elasticIp")?;
                        let out = self
                            .ec2
                            .create_nat_gateway()
                            .subnet_id(subnet)
                            .allocation_id(eip)
                            .client_token(client_token(p, &spec.id, &[subnet, eip]))
                            .tag_specifications(tag_spec(ResourceType::Natgateway, p, spec))
                            .send()
                            .await
                            .map_err(|e| fault::map(a, &e))?;
                        nat_obs(out.nat_gateway().ok_or_else(|| a.fatal("CreateNatGateway returned no NAT gateway"))?)
                    }
                }
            }
            ResourceKind::LaunchTemplate => match self.tagged::<LaunchTemplate>(a, p, mine).await?.into_iter().next() {
                Some(t) => lt_obs(&t),
                None => {
                    let m = &spec.props["metadataOptions"];
                    let options = LaunchTemplateInstanceMetadataOptionsRequest::builder()
                        .http_tokens(LaunchTemplateHttpTokensState::from(m["httpTokens"].as_str().unwrap_or("required")))
                        .set_http_put_response_hop_limit(m["httpPutResponseHopLimit"].as_i64().map(|n| n as i32))
                        .http_endpoint(LaunchTemplateInstanceMetadataEndpointState::from(m["httpEndpoint"].as_str().unwrap_or("enabled")))
                        .build();
                    let out = self
                        .ec2
                        .create_launch_template()
                        .launch_template_name(&spec.name)
                        .launch_template_data(RequestLaunchTemplateData::builder().metadata_options(options).build())
                        .client_token(client_token(p, &spec.id, &[&m.to_string()]))
                        .tag_specifications(tag_spec(ResourceType::LaunchTemplate, p, spec))
                        .send()
                        .await
                        .map_err(|e| match fault::code(&e) {
                            Some("InvalidLaunchTemplateName.AlreadyExistsException") => {
                                a.fatal(format!("a launch template named {} already exists and is not tagged for project {p}", spec.name))
                            }
                            _ => fault::map(a, &e),
                        })?;
                    lt_obs(out.launch_template().ok_or_else(|| a.fatal("CreateLaunchTemplate returned no launch template"))?)
                }
            },
            ResourceKind::SecurityGroup => {
                let vpc = dep_id(spec, ctx, "vpc")?;
                let want = spec_rules(spec)?;
                let sg = match self.tagged::<SecurityGroup>(a, p, mine).await?.into_iter().next() {
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
                if let Some(k) = self.tagged::<KeyPairInfo>(a, p, mine).await?.first() {
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
                if let Some(i) = self.tagged::<Instance>(a, p, mine).await?.first() {
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
                .set_metadata_options(metadata_options(spec))
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
            let inst = self.one::<Instance>(a, id).await?.ok_or_else(|| a.fatal(format!("{id} is gone")))?;
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
        // Gone already is fine: every delete call's NotFound counts as done.
        match o.kind {
            ResourceKind::Vpc => fault::gone(a, self.ec2.delete_vpc().vpc_id(id).send().await),
            ResourceKind::InternetGateway => {
                let Some(igw) = self.one::<InternetGateway>(a, id).await? else { return Ok(()) };
                for vpc in igw.attachments().iter().filter_map(|x| x.vpc_id()) {
                    match self.ec2.detach_internet_gateway().internet_gateway_id(id).vpc_id(vpc).send().await {
                        Err(e) if fault::code(&e) == Some("Gateway.NotAttached") => {}
                        r => fault::gone(a, r)?,
                    }
                }
                fault::gone(a, self.ec2.delete_internet_gateway().internet_gateway_id(id).send().await)
            }
            ResourceKind::Subnet => fault::gone(a, self.ec2.delete_subnet().subnet_id(id).send().await),
            ResourceKind::RouteTable => {
                let Some(rt) = self.one::<RouteTable>(a, id).await? else { return Ok(()) };
                for assoc in rt.associations().iter().filter(|x| x.main() != Some(true)).filter_map(|x| x.route_table_association_id()) {
                    fault::gone(a, self.ec2.disassociate_route_table().association_id(assoc).send().await)?;
                }
                fault::gone(a, self.ec2.delete_route_table().route_table_id(id).send().await)
            }
            // Released once its NAT gateway is deleted (the destroy waves see to that; before,
            // AWS answers "in use", which is retried).
            ResourceKind::ElasticIp => fault::gone(a, self.ec2.release_address().allocation_id(id).send().await),
            ResourceKind::NatGateway => {
                // Only one that is there and not going already (the emulator fails on an unknown id).
                match self.one::<NatGateway>(a, id).await? {
                    Some(n) if !NAT_GONE.contains(&nat_obs(&n).state.as_str()) => {
                        fault::gone(a, self.ec2.delete_nat_gateway().nat_gateway_id(id).send().await)
                    }
                    _ => Ok(()),
                }
            }
            ResourceKind::SecurityGroup => fault::gone(a, self.ec2.delete_security_group().group_id(id).send().await),
            ResourceKind::KeyPair => fault::gone(a, self.ec2.delete_key_pair().key_name(id).send().await),
            ResourceKind::LaunchTemplate => fault::gone(a, self.ec2.delete_launch_template().launch_template_id(id).send().await),
            ResourceKind::Instance => fault::gone(a, self.ec2.terminate_instances().instance_ids(id).send().await),
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
