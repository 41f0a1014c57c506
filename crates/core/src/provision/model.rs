//! The provisioning model: resources as data, what a cloud reports about them, and the one
//! trait a cloud provider implements ([`CloudDriver`]). No SDK here.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::secrets::Secret;

/// Tag keys every resource Slipway creates carries.
pub const TAG_PROJECT: &str = "slipway:project";
pub const TAG_RESOURCE: &str = "slipway:resource";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum ResourceKind {
    Vpc,
    InternetGateway,
    Subnet,
    RouteTable,
    SecurityGroup,
    KeyPair,
    Instance,
    DbSubnetGroup,
    DbInstance,
    IamRole,
    EksCluster,
    EksNodegroup,
    ElasticIp,
    NatGateway,
    LaunchTemplate,
    EcrRepository,
}

impl ResourceKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Vpc => "VPC",
            Self::InternetGateway => "Internet gateway",
            Self::Subnet => "Subnet",
            Self::RouteTable => "Route table",
            Self::SecurityGroup => "Security group",
            Self::KeyPair => "Key pair",
            Self::Instance => "EC2 instance",
            Self::DbSubnetGroup => "DB subnet group",
            Self::DbInstance => "RDS MySQL instance",
            Self::IamRole => "IAM role",
            Self::EksCluster => "EKS cluster",
            Self::EksNodegroup => "EKS node group",
            Self::ElasticIp => "Elastic IP",
            Self::NatGateway => "NAT gateway",
            Self::LaunchTemplate => "Launch template",
            Self::EcrRepository => "ECR repository",
        }
    }

    /// When a destroy has no dependency graph (state lost), resources are deleted in this order,
    /// lowest first: dependents before what they depend on.
    pub fn destroy_rank(self) -> u8 {
        match self {
            Self::EksNodegroup => 0,
            Self::Instance | Self::DbInstance => 1,
            Self::EksCluster => 2,
            Self::DbSubnetGroup | Self::KeyPair | Self::LaunchTemplate | Self::EcrRepository => 3,
            Self::RouteTable => 4,
            // A NAT gateway goes once no route points at it, and before its subnet and address.
            Self::NatGateway => 5,
            // An Elastic IP is released once the NAT gateway that held it is gone, and before the
            // internet gateway (AWS refuses to detach one while the VPC has mapped addresses).
            Self::SecurityGroup | Self::Subnet | Self::ElasticIp => 6,
            Self::InternetGateway => 7,
            Self::Vpc | Self::IamRole => 8,
        }
    }
}

/// One resource of the blueprint. `props` are kind-specific (documented per kind in
/// `blueprint.rs`); a prop naming another resource holds that resource's logical id, and the
/// driver reads its physical id from [`Deps`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ResourceSpec {
    /// Stable logical id within the project, e.g. `subnet-public-a`.
    pub id: String,
    pub kind: ResourceKind,
    /// The name AWS shows (`Name` tag or the resource's own name), e.g. `shop-vpc`.
    pub name: String,
    pub depends_on: Vec<String>,
    #[ts(type = "Record<string, unknown>")]
    pub props: serde_json::Value,
    /// How long AWS usually takes to create it, in seconds (for progress and polling).
    pub expected_secs: u32,
}

/// What the cloud reports about one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Observed {
    pub kind: ResourceKind,
    /// From the `slipway:resource` tag; None for a resource without it.
    pub logical_id: Option<String>,
    /// The cloud's id (vpc-..., i-..., the DB identifier, the cluster name, the role name...).
    pub physical_id: String,
    /// The state in the cloud's own words (pending, available, CREATING, ACTIVE...).
    pub state: String,
    pub ready: bool,
    /// The cloud says it failed (e.g. EKS CREATE_FAILED, RDS failed).
    pub failed: bool,
    /// Normalized attributes for drift and plans (same keys as the spec's comparable props),
    /// plus outputs dependents need (endpoint, arn, ...).
    #[ts(type = "Record<string, unknown>")]
    pub attrs: serde_json::Value,
}

/// A secret the cloud hands back once (a key pair's private key). Never stored in the store.
#[derive(Debug, Clone)]
pub struct Created {
    pub observed: Observed,
    pub secret: Option<Secret>,
}

/// The observed state of the resources a spec depends on, by logical id.
pub type Deps = std::collections::HashMap<String, Observed>;

/// Context for a create: the dependencies and, for kinds that need one, a secret Slipway made
/// (the database master password), already saved to the keychain.
pub struct CreateCtx<'a> {
    pub project: &'a str,
    pub deps: &'a Deps,
    pub secret: Option<&'a Secret>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProvisionError {
    /// Throttling, 5xx, timeouts, connection resets: worth retrying with backoff.
    #[error("{0}")]
    Retryable(String),
    /// A dependency is not ready yet / the resource is in a state that forbids the call now
    /// (e.g. DependencyViolation while deleting): retry later.
    #[error("{0}")]
    NotYet(String),
    /// Everything else: a clear message naming the resource and the cause.
    #[error("{0}")]
    Fatal(String),
    /// AWS refused because an account quota is used up (NAT gateways per zone, Elastic IPs per
    /// region...): retrying does not help; `fix` names the quota and how to get room.
    #[error("{why}")]
    Quota { why: String, fix: String },
}

impl ProvisionError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, ProvisionError::Retryable(_) | ProvisionError::NotYet(_))
    }
}

/// What a cloud provider implements for provisioning. Every mutating call tags what it creates
/// with [`TAG_PROJECT`], [`TAG_RESOURCE`] and `Name` at creation time (never in a second call),
/// so a crash between "created" and "recorded" is recovered by [`CloudDriver::find`].
#[async_trait::async_trait]
pub trait CloudDriver: Send + Sync {
    /// The availability zones of the region (read-only; used to validate a blueprint).
    async fn availability_zones(&self) -> Result<Vec<String>, ProvisionError>;
    /// The resource of this spec, found by its tags (`slipway:project` + `slipway:resource`),
    /// if it exists and is not being deleted. More than one: return the oldest.
    async fn find(&self, project: &str, spec: &ResourceSpec) -> Result<Option<Observed>, ProvisionError>;
    /// Starts creating the resource (with idempotency tokens where the API has them).
    async fn create(&self, spec: &ResourceSpec, ctx: &CreateCtx<'_>) -> Result<Created, ProvisionError>;
    /// Changes mutable properties in place (see `Plan`); the spec tells the desired values.
    async fn update(&self, spec: &ResourceSpec, current: &Observed, ctx: &CreateCtx<'_>) -> Result<Observed, ProvisionError>;
    /// Reads the resource's current state; None when it is gone.
    async fn describe(&self, kind: ResourceKind, physical_id: &str) -> Result<Option<Observed>, ProvisionError>;
    /// Starts deleting (detaching what must be detached first); a resource already gone is Ok.
    async fn delete(&self, observed: &Observed) -> Result<(), ProvisionError>;
    /// Every resource of every kind tagged `slipway:project = project` (untagged ones never).
    async fn list_tagged(&self, project: &str) -> Result<Vec<Observed>, ProvisionError>;
}
