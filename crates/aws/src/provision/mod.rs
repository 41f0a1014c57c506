//! [`CloudDriver`] for AWS: the blueprint's resources on EC2, RDS, IAM, EKS and ECR (and SSM for
//! the AMI parameter). One file per service; this one holds the driver, the dispatch by kind and the
//! helpers they share.
//!
//! Rules every service module follows:
//! - every create tags at creation time (`slipway:project`, `slipway:resource`, `Name`);
//! - `create` first looks for the resource by its tags (or, for named resources, by name plus
//!   tags) and then converges the follow-up steps (attachments, routes, rules, policies), so a
//!   create that failed half-way (a throttled `AttachInternetGateway`) is completed by calling it
//!   again instead of making a second copy;
//! - the SDK retries only reads (Describe*, List*, Get*, and GETs), a few times with short
//!   backoff ([`ReadsOnly`]); a mutating call is never retried by the SDK, since a create whose
//!   answer was lost may have taken effect: the executor retries those, looking the resource up
//!   by tag first;
//! - no secret (key material, database password) ever reaches a message or a log line.

mod ec2;
mod ecr;
mod eks;
mod fault;
mod iam;
mod rds;

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextMut, InterceptorContext,
};
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::retry::RetryConfig;
use serde_json::Value;
use slipway_core::providers::AwsTarget;
use slipway_core::provision::{
    CloudDriver, CreateCtx, Created, Observed, ProvisionError, ResourceKind, ResourceSpec, TAG_PROJECT, TAG_RESOURCE,
};
use slipway_core::UserError;

pub(crate) use fault::About;

/// The header moto reads to keep each account's resources apart.
pub const MOTO_ACCOUNT_HEADER: &str = "x-moto-account-id";

/// The AWS implementation of [`CloudDriver`].
#[derive(Clone)]
pub struct AwsDriver {
    config: SdkConfig,
    account: Option<String>,
    pub(crate) ec2: aws_sdk_ec2::Client,
    pub(crate) rds: aws_sdk_rds::Client,
    pub(crate) eks: aws_sdk_eks::Client,
    pub(crate) iam: aws_sdk_iam::Client,
    pub(crate) ssm: aws_sdk_ssm::Client,
    pub(crate) ecr: aws_sdk_ecr::Client,
    /// Pause between polls while an instance stops for a type change.
    pub(crate) poll_every: std::time::Duration,
}

impl fmt::Debug for AwsDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsDriver").field("region", &self.config.region()).field("moto_account", &self.account).finish()
    }
}

/// Adds `x-moto-account-id` to every request (moto's per-account isolation).
#[derive(Debug, Clone)]
struct MotoAccount(String);

impl Intercept for MotoAccount {
    fn name(&self) -> &'static str {
        "SlipwayMotoAccount"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        context.request_mut().headers_mut().insert(MOTO_ACCOUNT_HEADER, self.0.clone());
        Ok(())
    }
}

/// Whether the request in flight only reads, remembered from before it was sent until its
/// answer is classified.
#[derive(Debug, Clone, Copy)]
struct IsRead(bool);

impl Storable for IsRead {
    type Storer = StoreReplace<Self>;
}

const READ_MARK: &str = "x-slipway-read-only";

fn read_action(name: &str) -> bool {
    ["Describe", "List", "Get"].iter().any(|p| name.starts_with(p))
}

/// Lets the SDK retry reads only: the request is classified before it is sent (GET, an
/// `X-Amz-Target` or query `Action=` naming Describe/List/Get), the answer is marked, and the
/// classifier forbids retrying anything unmarked.
#[derive(Debug, Clone)]
struct ReadsOnly;

impl Intercept for ReadsOnly {
    fn name(&self) -> &'static str {
        "SlipwayReadsOnly"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let req = context.request();
        let read = req.method() == "GET"
            || req.headers().get("x-amz-target").is_some_and(|t| read_action(t.rsplit('.').next().unwrap_or("")))
            || req.body().bytes().is_some_and(|b| {
                let body = String::from_utf8_lossy(b);
                body.split('&').any(|kv| kv.strip_prefix("Action=").is_some_and(read_action))
            });
        cfg.interceptor_state().store_put(IsRead(read));
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if cfg.load::<IsRead>().is_some_and(|r| r.0) {
            context.response_mut().headers_mut().insert(READ_MARK, "1");
        }
        Ok(())
    }
}

impl ClassifyRetry for ReadsOnly {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        match ctx.response() {
            Some(r) if r.headers().get(READ_MARK).is_some() => RetryAction::NoActionIndicated,
            _ => RetryAction::RetryForbidden,
        }
    }

    fn name(&self) -> &'static str {
        "SlipwayReadsOnly"
    }
}

macro_rules! client {
    ($krate:ident, $cfg:expr, $account:expr) => {{
        let mut b = $krate::config::Builder::from($cfg)
            .retry_config(RetryConfig::standard().with_max_attempts(4).with_initial_backoff(std::time::Duration::from_millis(100)))
            .interceptor(ReadsOnly)
            .retry_classifier(ReadsOnly);
        if let Some(a) = $account {
            b = b.interceptor(MotoAccount(a.clone()));
        }
        $krate::Client::from_conf(b.build())
    }};
}

impl AwsDriver {
    /// Clients for EC2, RDS, EKS, IAM, SSM and ECR in the target's region, from one SdkConfig.
    pub async fn new(target: &AwsTarget) -> Result<AwsDriver, UserError> {
        let config = crate::sdk_config(target, &target.region).await?;
        Ok(Self::from_config(config, None))
    }

    fn from_config(config: SdkConfig, account: Option<String>) -> Self {
        AwsDriver {
            ec2: client!(aws_sdk_ec2, &config, &account),
            rds: client!(aws_sdk_rds, &config, &account),
            eks: client!(aws_sdk_eks, &config, &account),
            iam: client!(aws_sdk_iam, &config, &account),
            ssm: client!(aws_sdk_ssm, &config, &account),
            ecr: client!(aws_sdk_ecr, &config, &account),
            poll_every: std::time::Duration::from_secs(5),
            config,
            account,
        }
    }

    /// Every request carries `x-moto-account-id: <account>`, so moto gives this driver an
    /// account of its own (tests; never against AWS). Moto expects 12 digits.
    pub fn with_moto_account(self, account: &str) -> Self {
        if !(account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())) {
            tracing::warn!(account, "a moto account id is 12 digits; sending it anyway");
        }
        let poll = self.poll_every;
        let mut d = Self::from_config(self.config, Some(account.to_string()));
        d.poll_every = poll;
        d
    }

    /// The pause between polls while an instance stops for an instance-type change (5 s).
    pub fn with_poll_interval(mut self, every: std::time::Duration) -> Self {
        self.poll_every = every;
        self
    }
}

#[async_trait]
impl CloudDriver for AwsDriver {
    async fn availability_zones(&self) -> Result<Vec<String>, ProvisionError> {
        self.azs().await
    }

    async fn find(&self, project: &str, spec: &ResourceSpec) -> Result<Option<Observed>, ProvisionError> {
        use ResourceKind::*;
        match spec.kind {
            Vpc | InternetGateway | Subnet | RouteTable | ElasticIp | NatGateway | SecurityGroup | KeyPair | LaunchTemplate | Instance => {
                self.ec2_find(project, spec).await
            }
            DbSubnetGroup | DbInstance => self.rds_find(project, spec).await,
            IamRole => self.iam_find(project, spec).await,
            EksCluster | EksNodegroup => self.eks_find(project, spec).await,
            EcrRepository => self.ecr_find(project, spec).await,
        }
    }

    async fn create(&self, spec: &ResourceSpec, ctx: &CreateCtx<'_>) -> Result<Created, ProvisionError> {
        use ResourceKind::*;
        let created = match spec.kind {
            Vpc | InternetGateway | Subnet | RouteTable | ElasticIp | NatGateway | SecurityGroup | KeyPair | LaunchTemplate | Instance => {
                self.ec2_create(spec, ctx).await?
            }
            DbSubnetGroup | DbInstance => self.rds_create(spec, ctx).await?,
            IamRole => self.iam_create(spec, ctx).await?,
            EksCluster | EksNodegroup => self.eks_create(spec, ctx).await?,
            EcrRepository => self.ecr_create(spec, ctx).await?,
        };
        tracing::info!(kind = ?spec.kind, id = %spec.id, physical_id = %created.observed.physical_id, state = %created.observed.state, "created");
        Ok(created)
    }

    async fn update(&self, spec: &ResourceSpec, current: &Observed, ctx: &CreateCtx<'_>) -> Result<Observed, ProvisionError> {
        let about = About { kind: spec.kind, name: &spec.name };
        let obs = match spec.kind {
            ResourceKind::Instance => self.instance_update(spec, current).await?,
            ResourceKind::DbInstance => self.db_update(spec, current).await?,
            ResourceKind::EksCluster => self.cluster_update(spec, current).await?,
            ResourceKind::EksNodegroup => self.nodegroup_update(spec, current, ctx).await?,
            ResourceKind::EcrRepository => self.ecr_update(spec, current).await?,
            other => return Err(about.fatal(format!("a {} cannot be changed in place; it needs a replace", other.label()))),
        };
        tracing::info!(kind = ?spec.kind, id = %spec.id, physical_id = %obs.physical_id, state = %obs.state, "updated");
        Ok(obs)
    }

    async fn describe(&self, kind: ResourceKind, physical_id: &str) -> Result<Option<Observed>, ProvisionError> {
        use ResourceKind::*;
        match kind {
            Vpc | InternetGateway | Subnet | RouteTable | ElasticIp | NatGateway | SecurityGroup | KeyPair | LaunchTemplate | Instance => {
                self.ec2_describe(kind, physical_id).await
            }
            DbSubnetGroup | DbInstance => self.rds_describe(kind, physical_id).await,
            IamRole => self.iam_describe(physical_id).await,
            EksCluster | EksNodegroup => self.eks_describe(kind, physical_id).await,
            EcrRepository => self.ecr_describe(physical_id).await,
        }
    }

    async fn delete(&self, observed: &Observed) -> Result<(), ProvisionError> {
        use ResourceKind::*;
        match observed.kind {
            Vpc | InternetGateway | Subnet | RouteTable | ElasticIp | NatGateway | SecurityGroup | KeyPair | LaunchTemplate | Instance => {
                self.ec2_delete(observed).await?
            }
            DbSubnetGroup | DbInstance => self.rds_delete(observed).await?,
            IamRole => self.iam_delete(observed).await?,
            EksCluster | EksNodegroup => self.eks_delete(observed).await?,
            EcrRepository => self.ecr_delete(observed).await?,
        }
        tracing::info!(kind = ?observed.kind, physical_id = %observed.physical_id, "delete started");
        Ok(())
    }

    async fn list_tagged(&self, project: &str) -> Result<Vec<Observed>, ProvisionError> {
        let (a, b, c, d, e) = tokio::try_join!(
            self.ec2_list(project),
            self.rds_list(project),
            self.iam_list(project),
            self.eks_list(project),
            self.ecr_list(project)
        )?;
        Ok(a.into_iter().chain(b).chain(c).chain(d).chain(e).collect())
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the service modules.

/// Tags as key -> value.
pub(crate) type Tags = BTreeMap<String, String>;

/// True when the tags say the resource belongs to `project` (and, when given, is `resource`).
pub(crate) fn tagged(tags: &Tags, project: &str, resource: Option<&str>) -> bool {
    tags.get(TAG_PROJECT).map(String::as_str) == Some(project) && resource.is_none_or(|r| tags.get(TAG_RESOURCE).map(String::as_str) == Some(r))
}

/// The three tags every created resource carries.
pub(crate) fn our_tags(project: &str, spec: &ResourceSpec) -> [(&'static str, String); 3] {
    [(TAG_PROJECT, project.to_string()), (TAG_RESOURCE, spec.id.clone()), ("Name", spec.name.clone())]
}

pub(crate) fn observed(kind: ResourceKind, physical_id: &str, state: &str, ready: bool, failed: bool, attrs: Value, tags: &Tags) -> Observed {
    Observed {
        kind,
        logical_id: tags.get(TAG_RESOURCE).cloned(),
        physical_id: physical_id.to_string(),
        state: state.to_string(),
        ready,
        failed,
        attrs,
    }
}

pub(crate) fn about(spec: &ResourceSpec) -> About<'_> {
    About { kind: spec.kind, name: &spec.name }
}

pub(crate) fn about_obs(o: &Observed) -> About<'_> {
    About { kind: o.kind, name: &o.physical_id }
}

/// A string prop the spec must have.
pub(crate) fn prop_str<'a>(spec: &'a ResourceSpec, key: &str) -> Result<&'a str, ProvisionError> {
    spec.props[key].as_str().ok_or_else(|| about(spec).fatal(format!("the blueprint gives no `{key}`")))
}

/// A whole-number prop the spec must have.
pub(crate) fn prop_i32(spec: &ResourceSpec, key: &str) -> Result<i32, ProvisionError> {
    spec.props[key]
        .as_i64()
        .and_then(|n| i32::try_from(n).ok())
        .ok_or_else(|| about(spec).fatal(format!("the blueprint gives no whole number `{key}`")))
}

/// A boolean prop (absent: `default`).
pub(crate) fn prop_bool(spec: &ResourceSpec, key: &str, default: bool) -> bool {
    spec.props[key].as_bool().unwrap_or(default)
}

/// A list-of-strings prop (absent: empty).
pub(crate) fn prop_list<'a>(spec: &'a ResourceSpec, key: &str) -> Vec<&'a str> {
    spec.props[key].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

/// The observed dependency a prop names (by logical id). A dependency that is not ready yet is
/// `NotYet`; one that is missing from the context is a bug in the caller (`Fatal`).
pub(crate) fn dep<'a>(spec: &ResourceSpec, ctx: &'a CreateCtx<'_>, logical: &str) -> Result<&'a Observed, ProvisionError> {
    let o = ctx.deps.get(logical).ok_or_else(|| about(spec).fatal(format!("its dependency '{logical}' has not been created")))?;
    if !o.ready {
        return Err(about(spec).not_yet(format!("waiting for '{logical}' ({} is {})", o.physical_id, o.state)));
    }
    Ok(o)
}

/// The physical id of the dependency named by a prop.
pub(crate) fn dep_id<'a>(spec: &ResourceSpec, ctx: &'a CreateCtx<'_>, key: &str) -> Result<&'a str, ProvisionError> {
    Ok(dep(spec, ctx, prop_str(spec, key)?)?.physical_id.as_str())
}

/// The physical ids of the dependencies named by a list prop.
pub(crate) fn dep_ids(spec: &ResourceSpec, ctx: &CreateCtx<'_>, key: &str) -> Result<Vec<String>, ProvisionError> {
    prop_list(spec, key).into_iter().map(|l| dep(spec, ctx, l).map(|o| o.physical_id.clone())).collect()
}

/// A deterministic idempotency token: the same project, resource id and request parameters give
/// the same token (a retried create after a lost answer is recognised by AWS); different
/// parameters (a replace) give another one. FNV-1a, stable across builds and Rust versions.
pub(crate) fn client_token(project: &str, spec_id: &str, params: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // A separator no parameter contains, so ("ab","c") and ("a","bc") differ.
        h ^= 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    };
    feed(project.as_bytes());
    feed(spec_id.as_bytes());
    for p in params {
        feed(p.as_bytes());
    }
    let id: String = spec_id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(24).collect();
    format!("slipway-{id}-{h:016x}")
}

/// The same value for the plan's purposes: equal, or the actual value is a more precise version
/// of the desired one ("8.0" and "8.0.35"), or equal numbers.
pub(crate) fn same(desired: &Value, actual: &Value) -> bool {
    if actual.is_null() || desired.is_null() {
        return true;
    }
    match (desired, actual) {
        (Value::String(d), Value::String(a)) => a == d || a.starts_with(&format!("{d}.")),
        (d, a) if d.is_number() && a.is_number() => d.as_f64() == a.as_f64(),
        (d, a) => d == a,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stable_short_and_depend_on_every_part() {
        let a = client_token("shop", "vm-ci", &["t3.small", "ami-1"]);
        assert_eq!(a, client_token("shop", "vm-ci", &["t3.small", "ami-1"]));
        assert!(a.starts_with("slipway-vm-ci-"), "{a}");
        assert!(a.len() <= 64, "{a}");
        assert_ne!(a, client_token("shop", "vm-ci", &["t3.medium", "ami-1"]));
        assert_ne!(a, client_token("shop2", "vm-ci", &["t3.small", "ami-1"]));
        assert_ne!(client_token("p", "ab", &["c"]), client_token("p", "a", &["bc"]));
        let long = client_token("p", &"x".repeat(200), &[]);
        assert!(long.len() <= 64, "{long}");
        // Pinned: a token must not change between releases (a retried create would duplicate).
        assert_eq!(client_token("slipway", "vm-ci", &[]), "slipway-vm-ci-63beee3b119a9bba");
    }

    #[test]
    fn tags_must_name_the_project_and_the_resource() {
        let t: Tags = [(TAG_PROJECT.to_string(), "p".to_string()), (TAG_RESOURCE.to_string(), "vpc".to_string())].into();
        assert!(tagged(&t, "p", None));
        assert!(tagged(&t, "p", Some("vpc")));
        assert!(!tagged(&t, "p", Some("igw")));
        assert!(!tagged(&t, "q", None));
        assert!(!tagged(&Tags::new(), "p", None));
    }

    #[test]
    fn versions_compare_by_prefix() {
        use serde_json::json;
        assert!(same(&json!("8.0"), &json!("8.0.35")));
        assert!(!same(&json!("8.0"), &json!("8.4.1")));
        assert!(same(&json!(20), &json!(20.0)));
        assert!(!same(&json!(2), &json!(3)));
    }
}
