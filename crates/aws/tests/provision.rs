//! The AWS provisioning driver against the real AWS emulator (moto server) and the fault proxy
//! from the test environment. Every test runs in a moto account of its own
//! (`x-moto-account-id`), so the tests run in parallel without seeing each other's resources.

use std::collections::HashMap;
use std::hash::BuildHasher;

use base64::Engine;
use serde_json::json;
use slipway_aws::AwsDriver;

use slipway_core::provision::cost::PriceTable;
use slipway_core::provision::{
    plan, Blueprint, CloudDriver, CreateCtx, Deps, NodeSubnets, Observed, ProvisionError, ResourceKind, ResourceSpec, TAG_PROJECT,
};
use slipway_core::secrets::Secret;
use slipway_testkit::env;

mod common;
use common::static_target as target;


/// A random 12-digit moto account, different for every test.
fn account() -> String {
    let n = std::collections::hash_map::RandomState::new().hash_one(std::time::SystemTime::now());
    format!("{}", 100_000_000_000 + n % 899_999_999_999)
}

async fn driver(endpoint: &str, account: &str) -> AwsDriver {
    AwsDriver::new(&target(endpoint, "us-east-1"))
        .await
        .unwrap()
        .with_moto_account(account)
        .with_poll_interval(std::time::Duration::from_millis(50))
}

/// A plain EC2 client in the same moto account (for what the driver must not touch).
async fn ec2(endpoint: &str) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::new(&slipway_aws::sdk_config(&target(endpoint, "us-east-1"), "us-east-1").await.unwrap())
}

macro_rules! in_account {
    ($req:expr, $account:expr) => {{
        let a = $account.to_string();
        $req.customize().mutate_request(move |r| {
            r.headers_mut().insert("x-moto-account-id", a.clone());
        })
    }};
}

/// The defaults with the admin address the service layer fills in.
/// The blueprint with both opt-in VMs: every kind of resource the driver creates.
fn blueprint() -> Blueprint {
    Blueprint { admin_cidr: "203.0.113.7/32".into(), ci_vm: true, test_vm: true, ..Blueprint::default() }
}

fn db_password() -> Secret {
    let n = std::collections::hash_map::RandomState::new().hash_one(std::time::SystemTime::now());
    Secret::new(format!("Pw{n:x}zQ9"))
}

/// Describes until ready (moto: at once, or after one poll for instances).
async fn until_ready(d: &AwsDriver, kind: ResourceKind, id: &str) -> Observed {
    for _ in 0..50 {
        let o = d.describe(kind, id).await.unwrap().unwrap_or_else(|| panic!("{kind:?} {id} is gone"));
        assert!(!o.failed, "{o:?}");
        if o.ready {
            return o;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{kind:?} {id} never became ready");
}

/// Creates every resource of the blueprint in order, as the executor would (deps by logical id).
async fn create_all(d: &AwsDriver, bp: &Blueprint, pw: &Secret) -> (Deps, Option<Secret>) {
    let mut deps: Deps = HashMap::new();
    let mut key = None;
    for spec in bp.resources() {
        let secret = (spec.kind == ResourceKind::DbInstance).then_some(pw);
        let ctx = CreateCtx { project: &bp.project, deps: &deps, secret };
        let created = d.create(&spec, &ctx).await.unwrap_or_else(|e| panic!("create {}: {e}", spec.id));
        assert_eq!(created.observed.logical_id.as_deref(), Some(spec.id.as_str()));
        assert_eq!(created.observed.kind, spec.kind);
        if spec.kind == ResourceKind::KeyPair {
            key = created.secret.clone();
        } else {
            assert!(created.secret.is_none(), "{} returned a secret", spec.id);
        }
        let obs = until_ready(d, spec.kind, &created.observed.physical_id).await;
        assert_eq!(obs.logical_id.as_deref(), Some(spec.id.as_str()), "{obs:?}");
        deps.insert(spec.id.clone(), obs);
    }
    (deps, key)
}

fn check_attrs(spec: &ResourceSpec, o: &Observed) {
    let p = &spec.props;
    let a = &o.attrs;
    match spec.kind {
        ResourceKind::Vpc => assert_eq!(a["cidr"], p["cidr"]),
        ResourceKind::Subnet => {
            assert_eq!(a["cidr"], p["cidr"]);
            assert_eq!(a["az"], p["az"]);
            assert_eq!(a["public"], p["public"]);
        }
        ResourceKind::Instance => {
            assert_eq!(a["instanceType"], p["instanceType"]);
            // IMDSv2 as asked in RunInstances.
            assert_eq!(a["httpTokens"], "required", "{a}");
            assert_eq!(a["httpPutResponseHopLimit"], 2, "{a}");
            assert!(a["privateIp"].as_str().is_some_and(|ip| ip.starts_with("10.20.")), "{a}");
            assert!(a["publicIp"].is_string(), "a VM in a public subnet has a public IP: {a}");
        }
        ResourceKind::DbInstance => {
            assert_eq!(a["instanceClass"], p["instanceClass"]);
            assert_eq!(a["allocatedStorage"], p["allocatedStorage"]);
            assert!(a["engineVersion"].as_str().unwrap().starts_with("8.0"), "{a}");
            assert!(a["endpoint"].as_str().is_some_and(|e| !e.is_empty()), "{a}");
            assert_eq!(a["port"], 3306);
        }
        ResourceKind::IamRole => assert!(a["arn"].as_str().unwrap().ends_with(&format!(":role/{}", spec.name)), "{a}"),
        ResourceKind::EksCluster => {
            assert_eq!(a["version"], p["version"]);
            assert!(a["endpoint"].as_str().is_some_and(|e| e.starts_with("https://")), "{a}");
            assert!(a["certificateAuthority"].as_str().is_some_and(|c| !c.is_empty()), "{a}");
            assert!(a["arn"].as_str().unwrap().starts_with("arn:aws:eks:"), "{a}");
        }
        ResourceKind::EksNodegroup => {
            assert_eq!(a["instanceType"], p["instanceType"]);
            assert_eq!(a["desiredSize"], p["desiredSize"]);
            assert!(a["launchTemplate"].as_str().is_some_and(|t| t.starts_with("lt-")), "the nodes use our launch template: {a}");
        }
        ResourceKind::LaunchTemplate => assert!(a["version"].is_string(), "{a}"),
        ResourceKind::EcrRepository => {
            assert_eq!(a["scanOnPush"], true);
            assert_eq!(a["lifecyclePolicy"], p["lifecyclePolicy"]);
            assert!(a["uri"].as_str().is_some_and(|u| u.ends_with(&format!("/{}", o.physical_id))), "{a}");
        }
        _ => {}
    }
}

#[tokio::test]
async fn the_whole_blueprint_is_created_found_listed_updated_and_deleted() {
    let moto = env("SLIPWAY_TEST_MOTO_URL");
    let acct = account();
    let d = driver(&moto, &acct).await;
    let raw = ec2(&moto).await;
    let bp = Blueprint { services: vec!["web".into()], ..blueprint() };
    let specs = bp.resources();
    let project = bp.project.as_str();

    let azs = d.availability_zones().await.unwrap();
    assert!(azs.contains(&"us-east-1a".to_string()) && azs.contains(&"us-east-1b".to_string()), "{azs:?}");
    bp.validate(Some(&azs)).unwrap();

    // Resources the driver must never list or delete: one untagged, one of another project.
    let untagged = in_account!(raw.create_vpc().cidr_block("10.99.0.0/16"), acct).send().await.unwrap();
    let untagged = untagged.vpc().unwrap().vpc_id().unwrap().to_string();
    let other_tags = aws_sdk_ec2::types::TagSpecification::builder()
        .resource_type(aws_sdk_ec2::types::ResourceType::Vpc)
        .tags(aws_sdk_ec2::types::Tag::builder().key(TAG_PROJECT).value("someone-else").build())
        .tags(aws_sdk_ec2::types::Tag::builder().key("slipway:resource").value("vpc").build())
        .build();
    let other = in_account!(raw.create_vpc().cidr_block("10.98.0.0/16").tag_specifications(other_tags), acct).send().await.unwrap();
    let other = other.vpc().unwrap().vpc_id().unwrap().to_string();

    // Nothing yet.
    assert!(d.list_tagged(project).await.unwrap().is_empty());
    assert!(d.find(project, &specs[0]).await.unwrap().is_none(), "another project's VPC was taken for ours");

    let pw = db_password();
    let (deps, key) = create_all(&d, &bp, &pw).await;
    let key = key.expect("the key pair's private key");
    assert!(key.expose().contains("PRIVATE KEY"), "not a private key");

    // Each is found by its tags, ready, with the attributes the plan compares.
    for spec in &specs {
        let found = d.find(project, spec).await.unwrap().unwrap_or_else(|| panic!("{} not found", spec.id));
        assert_eq!(found.physical_id, deps[&spec.id].physical_id, "{}", spec.id);
        assert_eq!(found.logical_id.as_deref(), Some(spec.id.as_str()));
        let o = d.describe(spec.kind, &found.physical_id).await.unwrap().unwrap();
        assert!(o.ready, "{} not ready: {o:?}", spec.id);
        assert_eq!(o.logical_id.as_deref(), Some(spec.id.as_str()));
        check_attrs(spec, &o);
    }
    // What dependents read.
    assert_eq!(deps["role-cluster"].attrs["arn"].as_str().unwrap(), format!("arn:aws:iam::{acct}:role/slipway-eks-cluster"));
    assert_eq!(deps["nodes"].physical_id, "slipway-eks/slipway-nodes");
    assert_eq!(deps["keypair"].physical_id, "slipway-key");

    // The user data went up base64-encoded once: AWS gives back the cloud-init text.
    let ud = in_account!(
        raw.describe_instance_attribute().instance_id(&deps["vm-ci"].physical_id).attribute(aws_sdk_ec2::types::InstanceAttributeName::UserData),
        acct
    )
    .send()
    .await
    .unwrap();
    let ud = base64::engine::general_purpose::STANDARD.decode(ud.user_data().unwrap().value().unwrap()).unwrap();
    assert_eq!(String::from_utf8(ud).unwrap(), specs.iter().find(|s| s.id == "vm-ci").unwrap().props["userData"].as_str().unwrap());

    // The list: exactly the 23 (with the repository), by logical id, and a plan against it
    // changes nothing.
    let listed = d.list_tagged(project).await.unwrap();
    let mut ids: Vec<&str> = listed.iter().map(|o| o.logical_id.as_deref().expect("every listed resource has its logical id")).collect();
    ids.sort();
    let mut want: Vec<&str> = specs.iter().map(|s| s.id.as_str()).collect();
    want.sort();
    assert_eq!(ids, want);
    assert!(listed.iter().all(|o| o.physical_id != untagged && o.physical_id != other));
    let p = plan::diff(project, &bp.region, &specs, &listed, &PriceTable::bundled());
    assert!(p.is_empty(), "{}: {:?}", p.summary(), p.changes.iter().filter(|c| c.action != plan::Action::NoChange).collect::<Vec<_>>());
    let theirs = d.list_tagged("someone-else").await.unwrap();
    assert_eq!(theirs.iter().map(|o| o.physical_id.as_str()).collect::<Vec<_>>(), [other.as_str()]);

    // Creating again finds what is there instead of making a copy.
    let spec = |id: &str| specs.iter().find(|s| s.id == id).unwrap().clone();
    for id in ["vpc", "igw", "subnet-public-a", "rt-public", "sg-ci", "vm-ci", "db-test", "role-nodes", "eks", "lt-nodes", "nodes", "ecr-web"] {
        let ctx = CreateCtx { project, deps: &deps, secret: Some(&pw) };
        let again = d.create(&spec(id), &ctx).await.unwrap();
        assert_eq!(again.observed.physical_id, deps[id].physical_id, "{id} was created twice");
    }
    assert_eq!(d.list_tagged(project).await.unwrap().len(), 23);
    // A second key pair cannot be handed out: its private key was shown once.
    let e = d.create(&spec("keypair"), &CreateCtx { project, deps: &deps, secret: None }).await.unwrap_err();
    assert!(matches!(&e, ProvisionError::Fatal(m) if m.starts_with("Key pair slipway-key: ")), "{e:?}");

    // In-place updates.
    let ctx = CreateCtx { project, deps: &deps, secret: None };
    let mut nodes = spec("nodes");
    nodes.props["desiredSize"] = json!(3);
    let o = d.update(&nodes, &deps["nodes"], &ctx).await.unwrap();
    assert_eq!(o.attrs["desiredSize"], 3);
    assert_eq!(d.describe(ResourceKind::EksNodegroup, &o.physical_id).await.unwrap().unwrap().attrs["desiredSize"], 3);
    let mut db = spec("db-test");
    db.props["instanceClass"] = json!("db.t3.small");
    db.props["allocatedStorage"] = json!(30);
    d.update(&db, &deps["db-test"], &ctx).await.unwrap();
    let o = until_ready(&d, ResourceKind::DbInstance, &deps["db-test"].physical_id).await;
    assert_eq!((o.attrs["instanceClass"].as_str(), o.attrs["allocatedStorage"].as_i64()), (Some("db.t3.small"), Some(30)));
    let mut vm = spec("vm-test");
    vm.props["instanceType"] = json!("t3.large");
    d.update(&vm, &deps["vm-test"], &ctx).await.unwrap();
    let o = until_ready(&d, ResourceKind::Instance, &deps["vm-test"].physical_id).await;
    assert_eq!(o.attrs["instanceType"], "t3.large");
    let mut nodes2 = spec("nodes");
    nodes2.props["instanceType"] = json!("m5.large");
    let e = d.update(&nodes2, &deps["nodes"], &ctx).await.unwrap_err();
    assert!(matches!(&e, ProvisionError::Fatal(m) if m.contains("needs a replace") && m.starts_with("EKS node group slipway-nodes")), "{e:?}");
    let e = d.update(&spec("vpc"), &deps["vpc"], &ctx).await.unwrap_err();
    assert!(matches!(&e, ProvisionError::Fatal(m) if m.starts_with("VPC slipway-vpc: ")), "{e:?}");

    // Deleting in reverse order (retrying what is still in use) leaves nothing tagged.
    let listed = d.list_tagged(project).await.unwrap();
    // Out of order, AWS says "in use": not yet, retry later.
    for id in ["vpc", "eks"] {
        let o = listed.iter().find(|o| o.logical_id.as_deref() == Some(id)).unwrap();
        match d.delete(o).await {
            Err(ProvisionError::NotYet(m)) => assert!(m.contains("DependencyViolation") || m.contains("ResourceInUseException"), "{m}"),
            other => panic!("deleting {id} before its dependents: {other:?}"),
        }
    }
    for spec in specs.iter().rev() {
        let o = listed.iter().find(|o| o.logical_id.as_deref() == Some(spec.id.as_str())).unwrap();
        let mut tries = 0;
        loop {
            match d.delete(o).await {
                Ok(()) => break,
                Err(ProvisionError::NotYet(m)) if tries < 5 => {
                    tries += 1;
                    eprintln!("not yet: {m}");
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                Err(e) => panic!("delete {}: {e}", spec.id),
            }
        }
        // Gone (or going), and deleting again is fine.
        if let Some(now) = d.describe(spec.kind, &o.physical_id).await.unwrap() {
            assert!(matches!(now.state.as_str(), "shutting-down" | "deleting" | "DELETING" | "deleted"), "{} still {}", spec.id, now.state);
        }
        d.delete(o).await.unwrap_or_else(|e| panic!("second delete of {}: {e}", spec.id));
    }
    assert_eq!(d.list_tagged(project).await.unwrap(), vec![]);
    for spec in &specs {
        assert!(d.find(project, spec).await.unwrap().is_none(), "{} still found", spec.id);
    }

    // The others are untouched.
    let vpcs = in_account!(raw.describe_vpcs().vpc_ids(&untagged).vpc_ids(&other), acct).send().await.unwrap();
    assert_eq!(vpcs.vpcs().len(), 2);
}

#[tokio::test]
async fn accounts_are_isolated() {
    let moto = env("SLIPWAY_TEST_MOTO_URL");
    let (a, b) = (driver(&moto, &account()).await, driver(&moto, &account()).await);
    let bp = blueprint();
    let vpc = &bp.resources()[0];
    let deps = Deps::new();
    a.create(vpc, &CreateCtx { project: "iso", deps: &deps, secret: None }).await.unwrap();
    assert!(a.find("iso", vpc).await.unwrap().is_some());
    assert!(b.find("iso", vpc).await.unwrap().is_none());
    assert!(b.list_tagged("iso").await.unwrap().is_empty());
}

#[tokio::test]
async fn a_database_without_a_password_and_aws_refusals_are_fatal_and_name_the_resource() {
    let moto = env("SLIPWAY_TEST_MOTO_URL");
    let d = driver(&moto, &account()).await;
    let bp = blueprint();
    let specs = bp.resources();
    let spec = |id: &str| specs.iter().find(|s| s.id == id).unwrap().clone();
    let mut deps = Deps::new();
    fn ctx(deps: &Deps) -> CreateCtx<'_> {
        CreateCtx { project: "slipway", deps, secret: None }
    }
    let vpc = d.create(&spec("vpc"), &ctx(&deps)).await.unwrap().observed;
    deps.insert("vpc".into(), vpc);

    // AWS refuses: a subnet outside the VPC's range.
    let mut bad = spec("subnet-public-a");
    bad.props["cidr"] = json!("10.99.0.0/24");
    let e = d.create(&bad, &ctx(&deps)).await.unwrap_err();
    match &e {
        ProvisionError::Fatal(m) => assert!(m.starts_with("Subnet slipway-public-a: InvalidSubnet.Range: "), "{m}"),
        other => panic!("{other:?}"),
    }

    // Our own refusal: no master password.
    let e = d.create(&spec("db-test"), &ctx(&deps)).await.unwrap_err();
    assert_eq!(e, ProvisionError::Fatal("RDS MySQL instance slipway-test: no master password was given for the database".into()));

    // A dependency that is not there.
    let none = Deps::new();
    let e = d.create(&spec("igw"), &ctx(&none)).await.unwrap_err();
    assert!(matches!(&e, ProvisionError::Fatal(m) if m.contains("'vpc' has not been created")), "{e:?}");

    // A bad managed policy ARN.
    let mut role = spec("role-cluster");
    role.props["managedPolicies"] = json!(["arn:aws:iam::aws:policy/NoSuchPolicyAtAll"]);
    let e = d.create(&role, &ctx(&deps)).await.unwrap_err();
    assert!(matches!(&e, ProvisionError::Fatal(m) if m.starts_with("IAM role slipway-eks-cluster: ")), "{e:?}");

    // Deleting what is gone is fine.
    let ghost = Observed {
        kind: ResourceKind::Vpc,
        logical_id: None,
        physical_id: "vpc-0123456789abcdef0".into(),
        state: "available".into(),
        ready: true,
        failed: false,
        attrs: json!({}),
    };
    for (kind, id) in [
        (ResourceKind::Vpc, "vpc-0123456789abcdef0"),
        (ResourceKind::InternetGateway, "igw-0123456789abcdef0"),
        (ResourceKind::Subnet, "subnet-0123456789abcdef0"),
        (ResourceKind::RouteTable, "rtb-0123456789abcdef0"),
        (ResourceKind::SecurityGroup, "sg-0123456789abcdef0"),
        (ResourceKind::KeyPair, "nope-key"),
        (ResourceKind::Instance, "i-0123456789abcdef0"),
        (ResourceKind::DbSubnetGroup, "nope-db"),
        (ResourceKind::DbInstance, "nope-db"),
        (ResourceKind::IamRole, "nope-role"),
        (ResourceKind::EksCluster, "nope-eks"),
        (ResourceKind::EksNodegroup, "nope-eks/nope-nodes"),
        (ResourceKind::ElasticIp, "eipalloc-0123456789abcdef0"),
        (ResourceKind::NatGateway, "nat-0123456789abcdef0"),
        (ResourceKind::LaunchTemplate, "lt-0123456789abcdef0"),
        (ResourceKind::EcrRepository, "nope-web"),
    ] {
        let g = Observed { kind, physical_id: id.into(), ..ghost.clone() };
        assert_eq!(d.describe(kind, id).await.unwrap(), None, "{kind:?}");
        d.delete(&g).await.unwrap_or_else(|e| panic!("{kind:?}: {e}"));
    }
}

// --- Faults through the proxy --------------------------------------------------------------------

struct Proxy {
    url: String,
    account: String,
    http: reqwest::Client,
}

impl Proxy {
    async fn new(account: &str) -> Proxy {
        let p = Proxy { url: env("SLIPWAY_TEST_PROXY_URL"), account: account.into(), http: reqwest::Client::new() };
        p.clear().await;
        p
    }
    async fn rule(&self, mut rule: serde_json::Value) {
        rule["account"] = json!(self.account);
        self.http.post(format!("{}/__proxy__/rules", self.url)).json(&rule).send().await.unwrap().error_for_status().unwrap();
    }
    async fn clear(&self) {
        self.http.delete(format!("{}/__proxy__/rules?account={}", self.url, self.account)).send().await.unwrap().error_for_status().unwrap();
    }
    /// How many requests of `service`/`action` reached the proxy for this account.
    async fn count(&self, service: &str, action: &str) -> u64 {
        let s: serde_json::Value = self
            .http
            .get(format!("{}/__proxy__/stats?account={}", self.url, self.account))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        s["counts"][service][action].as_u64().unwrap_or(0)
    }
}

fn retryable(r: Result<impl std::fmt::Debug, ProvisionError>, needle: &str) -> String {
    match r {
        Err(ProvisionError::Retryable(m)) => {
            assert!(m.contains(needle), "{m} lacks {needle}");
            m
        }
        other => panic!("expected Retryable with {needle}, got {other:?}"),
    }
}

#[tokio::test]
async fn throttling_5xx_and_broken_connections_are_retryable_and_only_reads_are_retried_by_the_sdk() {
    let acct = account();
    let proxy = Proxy::new(&acct).await;
    let d = driver(&proxy.url, &acct).await;
    let bp = blueprint();
    let specs = bp.resources();
    let spec = |id: &str| specs.iter().find(|s| s.id == id).unwrap().clone();

    // EC2 throttling (HTTP 503 RequestLimitExceeded) of a read: the SDK tries it 4 times.
    proxy.rule(json!({"service": "ec2", "action": "DescribeAvailabilityZones", "fault": "throttle"})).await;
    let m = retryable(d.availability_zones().await, "RequestLimitExceeded");
    assert!(m.starts_with("Availability zones: RequestLimitExceeded: "), "{m}");
    assert_eq!(proxy.count("ec2", "DescribeAvailabilityZones").await, 4);
    proxy.clear().await;
    assert!(!d.availability_zones().await.unwrap().is_empty());
    // A throttled create is sent exactly once: only the executor retries it, after a lookup.
    proxy.rule(json!({"service": "ec2", "action": "CreateVpc", "fault": "throttle"})).await;
    retryable(d.create(&spec("vpc"), &CreateCtx { project: "slipway", deps: &Deps::new(), secret: None }).await, "RequestLimitExceeded");
    assert_eq!(proxy.count("ec2", "CreateVpc").await, 1);
    proxy.clear().await;

    // RDS and IAM (query protocol, HTTP 400 Throttling), EKS (429 ThrottlingException).
    proxy.rule(json!({"service": "rds", "fault": "throttle"})).await;
    proxy.rule(json!({"service": "iam", "fault": "throttle"})).await;
    proxy.rule(json!({"service": "eks", "fault": "throttle"})).await;
    let m = retryable(d.find("slipway", &spec("db-test")).await, "Throttling");
    assert!(m.starts_with("RDS MySQL instance slipway-test: Throttling: "), "{m}");
    retryable(d.find("slipway", &spec("role-cluster")).await, "IAM role slipway-eks-cluster: Throttling");
    retryable(d.find("slipway", &spec("eks")).await, "EKS cluster slipway-eks: ThrottlingException");
    retryable(d.list_tagged("slipway").await, "Throttling");
    proxy.clear().await;

    // 500 and 503 answers.
    proxy.rule(json!({"service": "ec2", "action": "DescribeVpcs", "fault": "error", "status": 500})).await;
    retryable(d.find("slipway", &spec("vpc")).await, "VPC slipway-vpc");
    proxy.clear().await;
    proxy.rule(json!({"service": "eks", "action": "DescribeCluster", "fault": "error", "status": 503})).await;
    retryable(d.describe(ResourceKind::EksCluster, "x").await, "EKS cluster x");
    proxy.clear().await;

    // A reset connection and one that closes without an answer.
    proxy.rule(json!({"service": "ec2", "action": "DescribeSubnets", "fault": "reset"})).await;
    retryable(d.describe(ResourceKind::Subnet, "subnet-0123456789abcdef0").await, "Subnet subnet-0123456789abcdef0");
    proxy.clear().await;
    proxy.rule(json!({"service": "iam", "action": "GetRole", "fault": "timeout", "ms": 300})).await;
    retryable(d.describe(ResourceKind::IamRole, "r").await, "IAM role r");
    proxy.clear().await;

    assert!(d.list_tagged("slipway").await.unwrap().is_empty());
}

#[tokio::test]
async fn a_create_cut_short_after_the_resource_exists_is_finished_by_the_next_create() {
    let acct = account();
    let proxy = Proxy::new(&acct).await;
    let d = driver(&proxy.url, &acct).await;
    let bp = blueprint();
    let specs = bp.resources();
    let spec = |id: &str| specs.iter().find(|s| s.id == id).unwrap().clone();
    let p = "slipway";
    let mut deps = Deps::new();

    // The VPC exists, but the DNS attribute call was throttled: not "found" until finished.
    proxy.rule(json!({"service": "ec2", "action": "ModifyVpcAttribute", "fault": "throttle", "count": 1})).await;
    retryable(d.create(&spec("vpc"), &CreateCtx { project: p, deps: &deps, secret: None }).await, "RequestLimitExceeded");
    assert!(d.find(p, &spec("vpc")).await.unwrap().is_none(), "a VPC without its DNS settings counts as finished");
    let vpc = d.create(&spec("vpc"), &CreateCtx { project: p, deps: &deps, secret: None }).await.unwrap().observed;
    assert_eq!(d.find(p, &spec("vpc")).await.unwrap().unwrap().physical_id, vpc.physical_id);
    deps.insert("vpc".into(), vpc);

    // The gateway exists but was not attached: the next create attaches the same one.
    proxy.rule(json!({"service": "ec2", "action": "AttachInternetGateway", "fault": "throttle", "count": 1})).await;
    let ctx = CreateCtx { project: p, deps: &deps, secret: None };
    retryable(d.create(&spec("igw"), &ctx).await, "Internet gateway slipway-igw: RequestLimitExceeded");
    assert!(d.find(p, &spec("igw")).await.unwrap().is_none());
    let igw = d.create(&spec("igw"), &ctx).await.unwrap().observed;
    assert_eq!(igw.state, "attached");
    assert_eq!(d.describe(ResourceKind::InternetGateway, &igw.physical_id).await.unwrap().unwrap().state, "attached");

    // A role whose policy attachment was refused: the next create attaches it to the same role.
    proxy.rule(json!({"service": "iam", "action": "AttachRolePolicy", "fault": "error", "status": 500, "count": 1})).await;
    retryable(d.create(&spec("role-cluster"), &ctx).await, "IAM role slipway-eks-cluster");
    assert!(d.find(p, &spec("role-cluster")).await.unwrap().is_none());
    d.create(&spec("role-cluster"), &ctx).await.unwrap();
    assert!(d.find(p, &spec("role-cluster")).await.unwrap().is_some());

    let listed = d.list_tagged(p).await.unwrap();
    let mut ids: Vec<_> = listed.iter().filter_map(|o| o.logical_id.clone()).collect();
    ids.sort();
    assert_eq!(ids, ["igw", "role-cluster", "vpc"], "a copy was made: {listed:?}");

    // An instance type change cut short after the stop: the next update modifies and starts.
    for id in ["subnet-public-a", "sg-ci", "keypair"] {
        let o = d.create(&spec(id), &CreateCtx { project: p, deps: &deps, secret: None }).await.unwrap().observed;
        deps.insert(id.into(), o);
    }
    let ctx = CreateCtx { project: p, deps: &deps, secret: None };
    let vm = d.create(&spec("vm-ci"), &ctx).await.unwrap().observed;
    let vm = until_ready(&d, ResourceKind::Instance, &vm.physical_id).await;
    let mut bigger = spec("vm-ci");
    bigger.props["instanceType"] = json!("t3.xlarge");
    proxy.rule(json!({"service": "ec2", "action": "ModifyInstanceAttribute", "fault": "throttle", "count": 1})).await;
    retryable(d.update(&bigger, &vm, &ctx).await, "EC2 instance slipway-ci: RequestLimitExceeded");
    assert_eq!(d.describe(ResourceKind::Instance, &vm.physical_id).await.unwrap().unwrap().state, "stopped");
    d.update(&bigger, &vm, &ctx).await.unwrap();
    let now = until_ready(&d, ResourceKind::Instance, &vm.physical_id).await;
    assert_eq!(now.attrs["instanceType"], "t3.xlarge");
    assert_eq!(proxy.count("ec2", "StopInstances").await, 1);
    assert_eq!(proxy.count("ec2", "StartInstances").await, 1);
    proxy.clear().await;
}

// --- Whole applies through the executor ----------------------------------------------------------

use slipway_core::events::{EventBus, Journal};
use slipway_core::provision::executor::{ExecOptions, Executor};
use slipway_core::secrets::MemorySecretStore;
use slipway_core::store::Store;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The executor over the driver, with a store in a temporary folder and an in-memory keychain.
fn executor(d: &AwsDriver) -> (Executor, Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let journal = Journal { bus: EventBus::new(100_000), store: store.clone() };
    (Executor::new(Arc::new(d.clone()), journal, Arc::new(MemorySecretStore::default()), ExecOptions::fast()), store, dir)
}

async fn ecr_client(endpoint: &str) -> aws_sdk_ecr::Client {
    aws_sdk_ecr::Client::new(&slipway_aws::sdk_config(&target(endpoint, "us-east-1"), "us-east-1").await.unwrap())
}

fn ids_of(listed: &[Observed]) -> Vec<String> {
    let mut ids: Vec<String> = listed.iter().map(|o| o.logical_id.clone().expect("a logical id")).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn ecr_repositories_are_applied_once_with_scan_on_push_lifecycle_and_tags_and_destroyed_with_their_images() {
    let moto = env("SLIPWAY_TEST_MOTO_URL");
    let acct = account();
    let d = driver(&moto, &acct).await;
    let (exec, _store, _dir) = executor(&d);
    let ecr = ecr_client(&moto).await;
    let bp = Blueprint { project: "reg".into(), services: vec!["web".into(), "api".into()], ecr_keep_images: 15, ..blueprint() };

    let r = exec.apply(&bp, CancellationToken::new()).await.unwrap();
    assert_eq!(r.created, 24, "{}", r.summary);
    for (svc, id) in [("web", "ecr-web"), ("api", "ecr-api")] {
        let name = format!("reg-{svc}");
        let repo = in_account!(ecr.describe_repositories().repository_names(&name), acct).send().await.unwrap();
        let repo = repo.repositories()[0].clone();
        assert!(repo.image_scanning_configuration().unwrap().scan_on_push(), "{name} does not scan on push");
        let policy = in_account!(ecr.get_lifecycle_policy().repository_name(&name), acct).send().await.unwrap();
        let policy: serde_json::Value = serde_json::from_str(policy.lifecycle_policy_text().unwrap()).unwrap();
        assert_eq!(policy, Blueprint::ecr_lifecycle_policy(15));
        assert_eq!(policy["rules"][0]["selection"]["countNumber"], 15);
        let tags = in_account!(ecr.list_tags_for_resource().resource_arn(repo.repository_arn().unwrap()), acct).send().await.unwrap();
        let tags: HashMap<&str, &str> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
        assert_eq!(tags, HashMap::from([("slipway:project", "reg"), ("slipway:resource", id), ("Name", name.as_str())]));
    }
    let web = r.resources.iter().find(|o| o.logical_id.as_deref() == Some("ecr-web")).unwrap();
    assert!(web.attrs["uri"].as_str().unwrap().ends_with(".amazonaws.com/reg-web"), "{}", web.attrs);

    // A second apply finds them: nothing new, nothing changed.
    let again = exec.apply(&bp, CancellationToken::new()).await.unwrap();
    assert_eq!((again.created, again.unchanged), (0, 24), "{}", again.summary);
    let all = in_account!(ecr.describe_repositories(), acct).send().await.unwrap();
    let mut names: Vec<&str> = all.repositories().iter().filter_map(|r| r.repository_name()).collect();
    names.sort();
    assert_eq!(names, ["reg-api", "reg-web"], "a repository was made twice");

    // Keeping fewer images is a change in place.
    let fewer = Blueprint { ecr_keep_images: 5, ..bp.clone() };
    let plan = exec.plan(&fewer).await.unwrap();
    assert_eq!(plan.summary(), "0 to create, 2 to update, 0 to replace, 0 to delete, 22 unchanged");
    let r = exec.apply(&fewer, CancellationToken::new()).await.unwrap();
    assert_eq!(r.updated, 2, "{}", r.summary);
    let policy = in_account!(ecr.get_lifecycle_policy().repository_name("reg-api"), acct).send().await.unwrap();
    assert!(policy.lifecycle_policy_text().unwrap().contains("\"countNumber\":5"), "{:?}", policy.lifecycle_policy_text());

    // An image in a repository does not stop the destroy: it goes with its repository.
    let manifest = json!({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023, "digest": format!("sha256:{}", "a".repeat(64))},
        "layers": []});
    in_account!(ecr.put_image().repository_name("reg-web").image_manifest(manifest.to_string()).image_tag("v1"), acct).send().await.unwrap();
    let removed = exec.destroy("reg", CancellationToken::new()).await.unwrap();
    assert_eq!(removed.removed.len(), 24);
    for name in ["reg-web", "reg-api"] {
        let e = in_account!(ecr.describe_repositories().repository_names(name), acct).send().await.unwrap_err();
        assert_eq!(aws_sdk_ecr::error::ProvideErrorMetadata::code(&e), Some("RepositoryNotFoundException"), "{name} is still there");
    }
    assert!(d.list_tagged("reg").await.unwrap().is_empty());
}

#[tokio::test]
async fn a_nat_gateway_refused_for_its_quota_is_a_clear_error_and_nothing_else_is_lost() {
    let acct = account();
    let proxy = Proxy::new(&acct).await;
    let d = driver(&proxy.url, &acct).await;
    let (exec, store, _dir) = executor(&d);
    let bp = Blueprint { project: "natq".into(), node_subnets: NodeSubnets::PrivateNat, ..blueprint() };
    assert_eq!(bp.resources().len(), 25);

    proxy
        .rule(json!({"service": "ec2", "action": "CreateNatGateway", "fault": "error", "status": 400,
                     "code": "NatGatewayLimitExceeded", "message": "The maximum number of NAT Gateways has been reached."}))
        .await;
    let e = exec.apply(&bp, CancellationToken::new()).await.unwrap_err();
    assert_eq!(e.what, "NAT gateway natq-nat failed");
    assert!(e.why.contains("NatGatewayLimitExceeded") && e.why.contains("NAT gateways per Availability Zone"), "{e}");
    assert!(e.fix.contains("Service Quotas") && e.fix.contains("Node subnets to public") && e.fix.contains("apply again"), "{e}");
    assert_eq!(proxy.count("ec2", "CreateNatGateway").await, 1, "a used-up quota is not retried");

    // Nothing else is lost: what was made before stays, tagged and recorded; what needs the NAT
    // gateway was not started.
    let listed = d.list_tagged("natq").await.unwrap();
    let ids = ids_of(&listed);
    for id in ["vpc", "igw", "subnet-public-a", "subnet-private-a", "rt-public", "eip-nat"] {
        assert!(ids.iter().any(|i| i == id), "{id} is gone: {ids:?}");
    }
    for id in ["nat", "rt-private", "nodes"] {
        assert!(!ids.iter().any(|i| i == id), "{id} exists: {ids:?}");
    }
    let recorded = store.resources("natq").await.unwrap();
    for o in &listed {
        assert!(recorded.iter().any(|r| r.physical_id == o.physical_id), "{:?} is not recorded", o.logical_id);
    }

    // Room again: the next apply finishes it, with no copies.
    proxy.clear().await;
    let r = exec.apply(&bp, CancellationToken::new()).await.unwrap();
    assert_eq!(r.created + r.unchanged, 25, "{}", r.summary);
    assert_eq!(r.unchanged as usize, listed.len(), "{}", r.summary);
    let listed = d.list_tagged("natq").await.unwrap();
    let want: Vec<String> = {
        let mut w: Vec<String> = bp.resources().iter().map(|s| s.id.clone()).collect();
        w.sort();
        w
    };
    assert_eq!(ids_of(&listed), want);

    // The private subnets route to the NAT gateway, which holds the Elastic IP in a public subnet;
    // the nodes run there, in private subnets, with our launch template.
    let by = |id: &str| listed.iter().find(|o| o.logical_id.as_deref() == Some(id)).unwrap().clone();
    let nat = by("nat");
    assert_eq!(nat.attrs["allocationId"], by("eip-nat").physical_id.as_str());
    assert_eq!(nat.attrs["subnetId"], by("subnet-public-a").physical_id.as_str());
    let rt = by("rt-private");
    assert_eq!(rt.attrs["defaultGateway"], nat.physical_id.as_str());
    let mut routed: Vec<String> = rt.attrs["subnetIds"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    routed.sort();
    let mut private = vec![by("subnet-private-a").physical_id, by("subnet-private-b").physical_id];
    private.sort();
    assert_eq!(routed, private);
    let nodes = by("nodes");
    assert_eq!(nodes.attrs["launchTemplate"], by("lt-nodes").physical_id.as_str());
    let mut node_subnets: Vec<String> = nodes.attrs["subnetIds"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    node_subnets.sort();
    assert_eq!(node_subnets, private);

    // The subnets carry the load-balancer discovery tags, set when they were made.
    let raw = ec2(&proxy.url).await;
    let subnets = in_account!(raw.describe_subnets().subnet_ids(&by("subnet-public-a").physical_id).subnet_ids(&private[0]), acct).send().await.unwrap();
    for s in subnets.subnets() {
        let tags: HashMap<&str, &str> = s.tags().iter().filter_map(|t| Some((t.key()?, t.value()?))).collect();
        assert_eq!(tags.get("kubernetes.io/cluster/natq-eks"), Some(&"shared"), "{tags:?}");
        let role = if s.map_public_ip_on_launch() == Some(true) { "kubernetes.io/role/elb" } else { "kubernetes.io/role/internal-elb" };
        assert_eq!(tags.get(role), Some(&"1"), "{tags:?}");
    }

    // Destroy takes the NAT gateway down before its address and subnet, and leaves nothing.
    let removed = exec.destroy("natq", CancellationToken::new()).await.unwrap();
    assert_eq!(removed.removed.len(), 25);
    let pos = |id: &str| removed.removed.iter().position(|o| o.logical_id.as_deref() == Some(id)).unwrap();
    assert!(pos("rt-private") < pos("nat") && pos("nat") < pos("eip-nat") && pos("nat") < pos("subnet-public-a"));
    assert!(d.list_tagged("natq").await.unwrap().is_empty());
    let addresses = in_account!(raw.describe_addresses(), acct).send().await.unwrap();
    assert!(addresses.addresses().is_empty(), "the Elastic IP was not released: {:?}", addresses.addresses());
}
