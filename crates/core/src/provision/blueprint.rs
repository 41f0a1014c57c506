//! The architecture as data: parameters a person edits, their validation (before any AWS call),
//! and the expansion into [`ResourceSpec`]s.
//!
//! What it must get right on real AWS (each is a test below named `aws_requirement_...`; only
//! the emulator runs here, and it checks none of these):
//! - Node-group instances have a route out (to join the cluster and pull images): public
//!   subnets that give public IPs, routed to the internet gateway ([`NodeSubnets::Public`], the
//!   default and the cheapest), or private subnets routed to a NAT gateway with an Elastic IP
//!   in a public subnet ([`NodeSubnets::PrivateNat`]). The node group waits for that route.
//! - Subnets carry the load-balancer discovery tags: public ones `kubernetes.io/role/elb=1`,
//!   private ones `kubernetes.io/role/internal-elb=1`, all `kubernetes.io/cluster/<cluster>=shared`.
//! - RDS stays private: not publicly accessible, only private subnets in its subnet group, its
//!   security group open to the VPC's range only.
//! - Instances require IMDSv2 (tokens required, hop limit 2 so containers on the host reach it):
//!   the VMs in their RunInstances call, the EKS nodes through a launch template of their own
//!   (EKS's default template leaves the metadata options to the AMI).
//! - The admin CIDR (SSH, Jenkins on the opt-in VMs) is the user's own address: the service
//!   layer fills it in (a detected `<ip>/32`, `127.0.0.1/32` in the sandbox); a blueprint with a
//!   VM turned on and no admin CIDR is refused, never opened to 0.0.0.0/0 by default.
//! - The EKS node role can pull from ECR (`AmazonEC2ContainerRegistryReadOnly`), and every
//!   service of the project has an ECR repository (scan on push, the newest N images kept).
//! - Every resource is used by the flow (network, databases, cluster, registries) or is an
//!   opt-in part whose purpose is stated ([`Blueprint::opt_ins`]): the CI VM and the test VM,
//!   with their security groups and key pair, exist only when turned on.
//!
//! Props per kind (what a [`super::CloudDriver`] reads; names of other resources are logical ids;
//! `tags`, on any kind, are extra tags set in the create call beside Slipway's own):
//! - `vpc`: `cidr`, `enableDnsHostnames` (bool), `enableDnsSupport` (bool)
//! - `internetGateway`: `vpc`
//! - `subnet`: `vpc`, `cidr`, `az`, `public` (bool: map public IPs on launch), `tags`
//! - `routeTable`: `vpc`, `internetGateway` or `natGateway` (route 0.0.0.0/0 to it), `subnets`
//!   (ids to associate)
//! - `elasticIp`: (name only; a VPC address)
//! - `natGateway`: `subnet` (a public one), `elasticIp`
//! - `securityGroup`: `vpc`, `description`, `ingress`: [{`protocol`, `fromPort`, `toPort`, `cidr`}]
//! - `keyPair`: (name only; the driver returns the private key once as `Created::secret`)
//! - `instance`: `subnet`, `securityGroups` [ids], `keyPair`, `instanceType`, `ami` (an AMI id,
//!   or `resolve:ssm:<parameter>`), `userData` (cloud-init text, the driver base64-encodes it),
//!   `metadataOptions` ({`httpTokens`, `httpPutResponseHopLimit`, `httpEndpoint`}), `publicIp`
//!   (bool: its subnet gives it a public IPv4 address; for the cost)
//! - `launchTemplate`: `metadataOptions` (as for instances)
//! - `dbSubnetGroup`: `subnets` [ids], `description`
//! - `dbInstance`: `engine` ("mysql"), `engineVersion`, `instanceClass`, `allocatedStorage` (GB),
//!   `dbSubnetGroup`, `securityGroups` [ids], `masterUsername`, `dbName`, `publiclyAccessible`
//!   (always false); the master password comes as `CreateCtx::secret`
//! - `iamRole`: `service` (trusted principal, e.g. eks.amazonaws.com), `managedPolicies` [ARNs]
//! - `eksCluster`: `version`, `role`, `subnets` [ids], `securityGroups` [ids]
//! - `eksNodegroup`: `cluster`, `role`, `subnets` [ids], `instanceType`, `desiredSize`, `minSize`,
//!   `maxSize`, `launchTemplate`, `publicIps` (bool: the nodes get public IPv4 addresses; for the cost)
//! - `ecrRepository`: `scanOnPush` (bool), `lifecyclePolicy` (the policy document as JSON)
//!
//! Observed attrs the plan compares (drivers report them with the same keys): vpc `cidr`;
//! subnet `cidr`, `az`; instance `instanceType`; dbInstance `instanceClass`, `allocatedStorage`,
//! `engineVersion`; eksCluster `version`; eksNodegroup `instanceType`, `desiredSize`;
//! ecrRepository `scanOnPush`, `lifecyclePolicy`.
//! Outputs dependents read: dbInstance `endpoint`, `port`; eksCluster `endpoint`, `certificateAuthority`,
//! `arn`; iamRole `arn`; instance `publicIp`, `privateIp`; launchTemplate `version`; ecrRepository
//! `uri`; securityGroup / subnet / vpc / elasticIp (allocation) / natGateway ids are the physical ids.

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use serde_json::json;
use ts_rs::TS;

use super::cloudinit;
use super::model::{ResourceKind, ResourceSpec};
use crate::UserError;

pub const AMAZON_LINUX_SSM: &str = "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

/// The managed policy that lets the EKS nodes pull images from the account's ECR repositories.
pub const ECR_READ_ONLY_POLICY: &str = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly";

/// Where the EKS nodes run, and so how they reach the internet (the cluster's API, image pulls).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum NodeSubnets {
    /// The public subnets, with a public IP per node, routed to the internet gateway: the
    /// cheapest (no NAT gateway), and what a hand-built setup usually does.
    #[default]
    Public,
    /// The private subnets, routed to a NAT gateway (with an Elastic IP) in a public subnet: the
    /// nodes have no public address; the NAT gateway costs by the hour and by the GB.
    PrivateNat,
}

/// A part of the blueprint that exists only when the user turns it on, with why one would.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct OptIn {
    /// The blueprint field that turns it on (`ciVm`, as `slipway blueprint --set ciVm=true`).
    pub field: String,
    pub label: String,
    /// What it is for (shown beside the parameter and in the plan).
    pub purpose: String,
    pub enabled: bool,
    /// The logical ids it adds (its own security group and, shared, the key pair).
    pub resources: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct Blueprint {
    /// The name prefix of every resource, and the project id every resource is tagged with.
    pub project: String,
    pub region: String,
    /// Two availability zones of the region.
    pub azs: Vec<String>,
    pub vpc_cidr: String,
    /// Two public subnets (load balancers, the nodes, the opt-in VMs), one per AZ.
    pub public_subnets: Vec<String>,
    /// Two private subnets (databases, cluster nodes), one per AZ.
    pub private_subnets: Vec<String>,
    /// Who may SSH to the opt-in VMs and open Jenkins: the user's own address as a /32. Empty
    /// until the service layer fills it (detected, or 127.0.0.1/32 in the sandbox); a blueprint
    /// with a VM turned on and without one is refused at plan time.
    pub admin_cidr: String,
    /// Opt-in: the CI VM (Jenkins on a server of the team's own; see [`Blueprint::opt_ins`]).
    pub ci_vm: bool,
    pub ci_instance_type: String,
    /// Opt-in: the test VM beside the test database (see [`Blueprint::opt_ins`]).
    pub test_vm: bool,
    pub test_instance_type: String,
    /// An AMI id, or None for the latest Amazon Linux 2023 from SSM.
    pub ami: Option<String>,
    pub db_instance_class: String,
    pub db_storage_gb: u32,
    pub db_engine_version: String,
    pub node_instance_type: String,
    pub node_count: u32,
    pub kubernetes_version: String,
    /// Where the EKS nodes run and how they reach the internet.
    pub node_subnets: NodeSubnets,
    /// The project's services: one ECR repository each, `<project>-<service>` (empty: none).
    pub services: Vec<String>,
    /// How many images each ECR repository keeps (the newest; older ones expire).
    pub ecr_keep_images: u32,
}

impl Default for Blueprint {
    fn default() -> Self {
        Self {
            project: "slipway".into(),
            region: "us-east-1".into(),
            azs: vec!["us-east-1a".into(), "us-east-1b".into()],
            vpc_cidr: "10.20.0.0/16".into(),
            public_subnets: vec!["10.20.0.0/24".into(), "10.20.1.0/24".into()],
            private_subnets: vec!["10.20.10.0/24".into(), "10.20.11.0/24".into()],
            admin_cidr: String::new(),
            ci_vm: false,
            ci_instance_type: "t3.medium".into(),
            test_vm: false,
            test_instance_type: "t3.small".into(),
            ami: None,
            db_instance_class: "db.t3.micro".into(),
            db_storage_gb: 20,
            db_engine_version: "8.0".into(),
            node_instance_type: "t3.medium".into(),
            node_count: 2,
            kubernetes_version: "1.30".into(),
            node_subnets: NodeSubnets::Public,
            services: vec![],
            ecr_keep_images: 20,
        }
    }
}

fn invalid(why: impl Into<String>, fix: impl Into<String>) -> UserError {
    UserError::new("Blueprint not valid", why, fix)
}

fn cidr(field: &str, v: &str) -> Result<Ipv4Net, UserError> {
    let net: Ipv4Net = v.trim().parse().map_err(|_| invalid(format!("{field} '{v}' is not an IPv4 CIDR"), "Write it like 10.20.0.0/16"))?;
    if net.network() != net.addr() {
        return Err(invalid(format!("{field} '{v}' has host bits set"), format!("Use {}", net.trunc())));
    }
    Ok(net)
}

fn instance_type(field: &str, v: &str, prefix: &str) -> Result<(), UserError> {
    let rest = v.strip_prefix(prefix).unwrap_or("");
    let ok = rest.split_once('.').is_some_and(|(fam, size)| {
        !fam.is_empty() && fam.chars().all(|c| c.is_ascii_alphanumeric()) && !size.is_empty() && size.chars().all(|c| c.is_ascii_alphanumeric())
    });
    if ok {
        Ok(())
    } else {
        Err(invalid(format!("{field} '{v}' is not an instance type"), format!("Use a type such as {prefix}t3.medium")))
    }
}

impl Blueprint {
    /// Checks everything that can be checked without AWS, then the AZs against `known_azs`
    /// (from the region, read before any resource is created).
    pub fn validate(&self, known_azs: Option<&[String]>) -> Result<(), UserError> {
        let p = &self.project;
        // Up to 40 like a project id: the longest name made from it ("<p>-eks-cluster", an IAM
        // role) stays within IAM's 64 and RDS's 63 characters. No "--": RDS refuses it.
        if p.len() < 2 || p.len() > 40 || !p.starts_with(|c: char| c.is_ascii_lowercase()) || !p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') || p.ends_with('-') || p.contains("--") {
            return Err(invalid(
                format!("project name '{p}' is not usable in AWS names"),
                "Use 2 to 40 lowercase letters, digits and single hyphens, starting with a letter (a project id with \"--\" cannot name AWS resources: add the project again with --id)",
            ));
        }
        if !crate::providers::is_region_name(&self.region) {
            return Err(invalid(format!("'{}' is not an AWS region code", self.region), "Pick a region such as us-east-1"));
        }
        if self.azs.len() != 2 || self.azs[0] == self.azs[1] {
            return Err(invalid(format!("{} availability zones given ({})", self.azs.len(), self.azs.join(", ")), "Pick two different availability zones"));
        }
        for az in &self.azs {
            if !az.starts_with(&self.region) {
                return Err(invalid(format!("availability zone '{az}' is not in region {}", self.region), "Pick zones of the chosen region"));
            }
            if let Some(known) = known_azs {
                if !known.contains(az) {
                    return Err(invalid(format!("availability zone '{az}' does not exist in {} (it has {})", self.region, known.join(", ")), "Pick two of the listed zones"));
                }
            }
        }
        let vpc = cidr("VPC CIDR", &self.vpc_cidr)?;
        if vpc.prefix_len() < 16 || vpc.prefix_len() > 24 {
            return Err(invalid(format!("VPC CIDR {vpc} is a /{}; AWS allows /16 to /28 and the subnets need room", vpc.prefix_len()), "Use a /16 to /24"));
        }
        if self.public_subnets.len() != 2 || self.private_subnets.len() != 2 {
            return Err(invalid("the blueprint needs two public and two private subnets", "Give one public and one private subnet per availability zone"));
        }
        let mut nets: Vec<(String, Ipv4Net)> = vec![];
        for (label, list) in [("public subnet", &self.public_subnets), ("private subnet", &self.private_subnets)] {
            for (i, s) in list.iter().enumerate() {
                let field = format!("{label} {}", i + 1);
                let n = cidr(&field, s)?;
                if !vpc.contains(&n) {
                    return Err(invalid(format!("{field} {n} is not inside the VPC {vpc}"), format!("Pick a subnet inside {vpc}")));
                }
                if n.prefix_len() > 28 {
                    return Err(invalid(format!("{field} {n} is smaller than AWS allows (/28)"), "Use a /28 or larger"));
                }
                if let Some((other, _)) = nets.iter().find(|(_, m)| m.contains(&n) || n.contains(m)) {
                    return Err(invalid(format!("{field} {n} overlaps {other}"), "Give every subnet its own range"));
                }
                nets.push((format!("{field} {n}"), n));
            }
        }
        // Only the opt-in VMs open ports to the admin address; without them it is not needed.
        if (self.ci_vm || self.test_vm) && self.admin_cidr.trim().is_empty() {
            return Err(invalid(
                "the admin CIDR (who may SSH to the VMs and open Jenkins) is not set: Slipway could not find your public address",
                "Set Admin CIDR to your own address as a /32, e.g. 203.0.113.7/32 (https://checkip.amazonaws.com shows it)",
            ));
        }
        if !self.admin_cidr.trim().is_empty() {
            cidr("admin CIDR", &self.admin_cidr)?;
        }
        instance_type("CI instance type", &self.ci_instance_type, "")?;
        instance_type("test instance type", &self.test_instance_type, "")?;
        instance_type("node instance type", &self.node_instance_type, "")?;
        instance_type("database class", &self.db_instance_class, "db.")?;
        if !(20..=16384).contains(&self.db_storage_gb) {
            return Err(invalid(format!("database storage {} GB is outside 20 to 16384 GB", self.db_storage_gb), "Use at least 20 GB"));
        }
        if !(1..=100).contains(&self.node_count) {
            return Err(invalid(format!("{} cluster nodes requested", self.node_count), "Use 1 to 100 nodes"));
        }
        let kv = &self.kubernetes_version;
        if !kv.strip_prefix("1.").is_some_and(|m| m.parse::<u32>().is_ok_and(|m| (23..=40).contains(&m))) {
            return Err(invalid(format!("Kubernetes version '{kv}' is not one EKS offers"), "Use a version such as 1.30"));
        }
        for (i, svc) in self.services.iter().enumerate() {
            let ok = !svc.is_empty()
                && svc.len() <= 200
                && svc.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && svc.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && svc.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' || c == '.')
                && !svc.contains("--")
                && !svc.contains("__")
                && !svc.contains("..");
            if !ok {
                return Err(invalid(
                    format!("service '{svc}' cannot name an ECR repository"),
                    "Service names for ECR are lowercase letters and digits, separated by single '-', '_' or '.'",
                ));
            }
            if self.services[..i].contains(svc) {
                return Err(invalid(format!("service '{svc}' is listed twice"), "List each service once"));
            }
        }
        if !(1..=1000).contains(&self.ecr_keep_images) {
            return Err(invalid(format!("ECR repositories keeping {} images", self.ecr_keep_images), "Keep 1 to 1000 images per repository"));
        }
        if let Some(ami) = &self.ami {
            if !ami.starts_with("ami-") {
                return Err(invalid(format!("'{ami}' is not an AMI id"), "Leave it empty for Amazon Linux 2023, or use an id like ami-0abc..."));
            }
        }
        Ok(())
    }

    /// The EKS cluster's name (also in the subnets' discovery tags).
    pub fn cluster_name(&self) -> String {
        format!("{}-eks", self.project)
    }

    /// The ECR repository of a service: `<project>-<service>`, where a run pushes its image.
    pub fn repository_name(&self, service: &str) -> String {
        format!("{}-{service}", self.project)
    }

    /// The ECR lifecycle policy that keeps the newest `keep` images of a repository.
    pub fn ecr_lifecycle_policy(keep: u32) -> serde_json::Value {
        json!({"rules": [{
            "rulePriority": 1,
            "description": "Keep only the newest images",
            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep},
            "action": {"type": "expire"}
        }]})
    }

    /// The opt-in parts, each with its purpose and whether it is on. Everything else the
    /// blueprint creates is used by the flow.
    pub fn opt_ins(&self) -> Vec<OptIn> {
        let part = |field: &str, label: &str, purpose: &str, enabled: bool, ids: &[&str]| OptIn {
            field: field.into(),
            label: label.into(),
            purpose: purpose.into(),
            enabled,
            resources: ids.iter().map(|s| s.to_string()).collect(),
        };
        vec![
            part(
                "ciVm",
                "CI VM",
                "Runs Jenkins (with Docker and kubectl) for teams that want their pipeline on a server of their own; once it is up, connect it on the Connect page or with `slipway jenkins connect --url http://<its address>:8080`.",
                self.ci_vm,
                &["vm-ci", "sg-ci", "keypair"],
            ),
            part(
                "testVm",
                "Test VM",
                "A VM beside the test database for manual or load testing.",
                self.test_vm,
                &["vm-test", "sg-test", "keypair"],
            ),
        ]
    }

    /// The resources, in an order where every dependency comes first.
    pub fn resources(&self) -> Vec<ResourceSpec> {
        let p = &self.project;
        let r = |id: &str, kind: ResourceKind, name: String, deps: &[&str], props: serde_json::Value, secs: u32| ResourceSpec {
            id: id.into(),
            kind,
            name,
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            props,
            expected_secs: secs,
        };
        let vpc = self.vpc_cidr.as_str();
        let ami = self.ami.clone().unwrap_or_else(|| AMAZON_LINUX_SSM.into());
        let tcp = |port: u16, cidr: &str| json!({"protocol": "tcp", "fromPort": port, "toPort": port, "cidr": cidr});
        let cluster_tag = format!("kubernetes.io/cluster/{}", self.cluster_name());
        let subnet = |id: &str, name: &str, cidr: &str, az: &str, public: bool| {
            let role = if public { "kubernetes.io/role/elb" } else { "kubernetes.io/role/internal-elb" };
            r(id, ResourceKind::Subnet, format!("{p}-{name}"), &["vpc"],
              json!({"vpc": "vpc", "cidr": cidr, "az": az, "public": public, "tags": {role: "1", cluster_tag.as_str(): "shared"}}), 5)
        };
        // IMDSv2 only; two hops so that containers on the host (pods, Jenkins builds) reach it.
        let imds = json!({"httpTokens": "required", "httpPutResponseHopLimit": 2, "httpEndpoint": "enabled"});
        let nat = self.node_subnets == NodeSubnets::PrivateNat;
        let mut out = vec![
            r("vpc", ResourceKind::Vpc, format!("{p}-vpc"), &[], json!({"cidr": vpc, "enableDnsHostnames": true, "enableDnsSupport": true}), 5),
            r("igw", ResourceKind::InternetGateway, format!("{p}-igw"), &["vpc"], json!({"vpc": "vpc"}), 5),
            subnet("subnet-public-a", "public-a", &self.public_subnets[0], &self.azs[0], true),
            subnet("subnet-public-b", "public-b", &self.public_subnets[1], &self.azs[1], true),
            subnet("subnet-private-a", "private-a", &self.private_subnets[0], &self.azs[0], false),
            subnet("subnet-private-b", "private-b", &self.private_subnets[1], &self.azs[1], false),
            r("rt-public", ResourceKind::RouteTable, format!("{p}-public"), &["vpc", "igw", "subnet-public-a", "subnet-public-b"],
              json!({"vpc": "vpc", "internetGateway": "igw", "subnets": ["subnet-public-a", "subnet-public-b"]}), 5),
        ];
        if nat {
            out.extend([
                r("eip-nat", ResourceKind::ElasticIp, format!("{p}-nat"), &[], json!({}), 2),
                r("nat", ResourceKind::NatGateway, format!("{p}-nat"), &["subnet-public-a", "eip-nat", "rt-public"],
                  json!({"subnet": "subnet-public-a", "elasticIp": "eip-nat"}), 120),
                r("rt-private", ResourceKind::RouteTable, format!("{p}-private"), &["vpc", "nat", "subnet-private-a", "subnet-private-b"],
                  json!({"vpc": "vpc", "natGateway": "nat", "subnets": ["subnet-private-a", "subnet-private-b"]}), 5),
            ]);
        }
        let vm = |subnet: &str, sg: &str, itype: &str, user_data: String| {
            json!({"subnet": subnet, "securityGroups": [sg], "keyPair": "keypair", "instanceType": itype, "ami": ami,
                   "userData": user_data, "metadataOptions": imds, "publicIp": true})
        };
        // The opt-in VMs, their security groups and (shared) key pair: only when turned on.
        if self.ci_vm {
            out.push(r("sg-ci", ResourceKind::SecurityGroup, format!("{p}-ci"), &["vpc"],
              json!({"vpc": "vpc", "description": "Slipway CI VM: SSH and Jenkins from the admin address", "ingress": [tcp(22, &self.admin_cidr), tcp(8080, &self.admin_cidr)]}), 5));
        }
        if self.test_vm {
            out.push(r("sg-test", ResourceKind::SecurityGroup, format!("{p}-test"), &["vpc"],
              json!({"vpc": "vpc", "description": "Slipway test VM: SSH from the admin address", "ingress": [tcp(22, &self.admin_cidr)]}), 5));
        }
        out.extend([
            r("sg-db", ResourceKind::SecurityGroup, format!("{p}-db"), &["vpc"],
              json!({"vpc": "vpc", "description": "Slipway databases: MySQL from inside the VPC", "ingress": [tcp(3306, vpc)]}), 5),
            r("sg-cluster", ResourceKind::SecurityGroup, format!("{p}-cluster"), &["vpc"],
              json!({"vpc": "vpc", "description": "Slipway cluster: HTTPS and HTTP", "ingress": [tcp(443, "0.0.0.0/0"), tcp(80, "0.0.0.0/0")]}), 5),
        ]);
        if self.ci_vm || self.test_vm {
            out.push(r("keypair", ResourceKind::KeyPair, format!("{p}-key"), &[], json!({}), 2));
        }
        if self.ci_vm {
            out.push(r("vm-ci", ResourceKind::Instance, format!("{p}-ci"), &["subnet-public-a", "sg-ci", "keypair"],
              vm("subnet-public-a", "sg-ci", &self.ci_instance_type, cloudinit::ci_vm()), 60));
        }
        if self.test_vm {
            out.push(r("vm-test", ResourceKind::Instance, format!("{p}-test"), &["subnet-public-b", "sg-test", "keypair"],
              vm("subnet-public-b", "sg-test", &self.test_instance_type, cloudinit::test_vm()), 60));
        }
        out.extend([
            r("db-subnets", ResourceKind::DbSubnetGroup, format!("{p}-db"), &["subnet-private-a", "subnet-private-b"],
              json!({"subnets": ["subnet-private-a", "subnet-private-b"], "description": "Slipway databases"}), 5),
            r("db-test", ResourceKind::DbInstance, format!("{p}-test"), &["db-subnets", "sg-db"], self.db_props("apptest"), 480),
            r("db-live", ResourceKind::DbInstance, format!("{p}-live"), &["db-subnets", "sg-db"], self.db_props("app"), 480),
            r("role-cluster", ResourceKind::IamRole, format!("{p}-eks-cluster"), &[],
              json!({"service": "eks.amazonaws.com", "managedPolicies": ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"]}), 5),
            r("role-nodes", ResourceKind::IamRole, format!("{p}-eks-nodes"), &[],
              json!({"service": "ec2.amazonaws.com", "managedPolicies": [
                  "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
                  "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
                  ECR_READ_ONLY_POLICY]}), 5),
            r("eks", ResourceKind::EksCluster, self.cluster_name(), &["role-cluster", "subnet-private-a", "subnet-private-b", "subnet-public-a", "subnet-public-b", "sg-cluster"],
              json!({"version": self.kubernetes_version, "role": "role-cluster", "subnets": ["subnet-private-a", "subnet-private-b", "subnet-public-a", "subnet-public-b"], "securityGroups": ["sg-cluster"]}), 600),
            r("lt-nodes", ResourceKind::LaunchTemplate, format!("{p}-nodes"), &[], json!({"metadataOptions": imds}), 2),
        ]);
        // The nodes start once their subnets have their route out: without it they never join.
        let (a, b, route) = if nat { ("subnet-private-a", "subnet-private-b", "rt-private") } else { ("subnet-public-a", "subnet-public-b", "rt-public") };
        out.push(r("nodes", ResourceKind::EksNodegroup, format!("{p}-nodes"), &["eks", "role-nodes", "lt-nodes", a, b, route],
            json!({"cluster": "eks", "role": "role-nodes", "subnets": [a, b], "instanceType": self.node_instance_type,
                   "desiredSize": self.node_count, "minSize": 1, "maxSize": self.node_count.max(1) * 2,
                   "launchTemplate": "lt-nodes", "publicIps": !nat}), 240));
        let policy = Self::ecr_lifecycle_policy(self.ecr_keep_images);
        for svc in &self.services {
            out.push(r(&format!("ecr-{svc}"), ResourceKind::EcrRepository, self.repository_name(svc), &[],
                json!({"scanOnPush": true, "lifecyclePolicy": policy}), 3));
        }
        out
    }

    fn db_props(&self, db_name: &str) -> serde_json::Value {
        json!({"engine": "mysql", "engineVersion": self.db_engine_version, "instanceClass": self.db_instance_class,
               "allocatedStorage": self.db_storage_gb, "dbSubnetGroup": "db-subnets", "securityGroups": ["sg-db"],
               "masterUsername": "admin", "dbName": db_name, "publiclyAccessible": false})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The defaults with the admin address the service layer would fill in.
    fn valid() -> Blueprint {
        Blueprint { admin_cidr: "203.0.113.7/32".into(), ..Blueprint::default() }
    }

    /// Both opt-in VMs turned on.
    fn with_vms() -> Blueprint {
        Blueprint { ci_vm: true, test_vm: true, ..valid() }
    }

    fn err(b: Blueprint) -> String {
        b.validate(Some(&["us-east-1a".into(), "us-east-1b".into(), "us-east-1c".into()])).unwrap_err().to_string()
    }

    fn by_id(rs: &[ResourceSpec], id: &str) -> ResourceSpec {
        rs.iter().find(|r| r.id == id).unwrap_or_else(|| panic!("no resource {id}")).clone()
    }

    fn ids(v: &serde_json::Value) -> Vec<String> {
        v.as_array().into_iter().flatten().filter_map(|x| x.as_str().map(str::to_string)).collect()
    }

    #[test]
    fn the_default_blueprint_is_valid_and_every_dependency_comes_first() {
        for b in [valid(), with_vms(), Blueprint { ci_vm: true, ..valid() }, Blueprint { test_vm: true, ..valid() }, Blueprint { node_subnets: NodeSubnets::PrivateNat, services: vec!["web".into(), "api".into()], ..with_vms() }] {
            b.validate(Some(&["us-east-1a".into(), "us-east-1b".into()])).unwrap();
            let rs = b.resources();
            let mut seen = std::collections::HashSet::new();
            for r in &rs {
                for d in &r.depends_on {
                    assert!(seen.contains(d.as_str()), "{} depends on {d}, which comes later", r.id);
                }
                assert!(seen.insert(r.id.as_str()), "duplicate id {}", r.id);
            }
        }
        assert_eq!(valid().resources().len(), 17);
        // Both VMs: each with its security group, and the key pair they share.
        assert_eq!(with_vms().resources().len(), 17 + 5);
        // A NAT gateway, its address and the private route table; a repository per service.
        let more = Blueprint { node_subnets: NodeSubnets::PrivateNat, services: vec!["web".into(), "api".into()], ..valid() };
        assert_eq!(more.resources().len(), 17 + 3 + 2);
    }

    #[test]
    fn bad_parameters_are_refused_with_the_reason() {
        let d = valid;
        assert!(err(Blueprint { project: "Shop_App".into(), ..d() }).contains("project name 'Shop_App'"));
        assert!(err(Blueprint { vpc_cidr: "10.20.0.0/33".into(), ..d() }).contains("not an IPv4 CIDR"));
        assert!(err(Blueprint { vpc_cidr: "10.20.0.1/16".into(), ..d() }).contains("host bits"));
        assert!(err(Blueprint { public_subnets: vec!["10.99.0.0/24".into(), "10.20.1.0/24".into()], ..d() }).contains("not inside the VPC"));
        assert!(err(Blueprint { private_subnets: vec!["10.20.0.0/25".into(), "10.20.11.0/24".into()], ..d() }).contains("overlaps public subnet 1 10.20.0.0/24"));
        assert!(err(Blueprint { azs: vec!["us-east-1a".into(), "us-east-1a".into()], ..d() }).contains("two different"));
        assert!(err(Blueprint { azs: vec!["us-east-1a".into(), "us-east-1z".into()], ..d() }).contains("'us-east-1z' does not exist"));
        assert!(err(Blueprint { azs: vec!["us-east-1a".into(), "eu-west-1a".into()], ..d() }).contains("not in region us-east-1"));
        assert!(err(Blueprint { db_storage_gb: 5, ..d() }).contains("5 GB"));
        assert!(err(Blueprint { node_count: 0, ..d() }).contains("0 cluster nodes"));
        assert!(err(Blueprint { db_instance_class: "t3.micro".into(), ..d() }).contains("database class 't3.micro'"));
        assert!(err(Blueprint { kubernetes_version: "2.0".into(), ..d() }).contains("Kubernetes version"));
        assert!(err(Blueprint { ami: Some("ubuntu".into()), ..d() }).contains("not an AMI id"));
        assert!(err(Blueprint { services: vec!["Web".into()], ..d() }).contains("service 'Web' cannot name an ECR repository"));
        assert!(err(Blueprint { services: vec!["api-".into()], ..d() }).contains("service 'api-'"));
        assert!(err(Blueprint { services: vec!["api".into(), "api".into()], ..d() }).contains("listed twice"));
        assert!(err(Blueprint { ecr_keep_images: 0, ..d() }).contains("keeping 0 images"));
    }

    /// The route table whose subnets include `subnet`, and where its 0.0.0.0/0 goes.
    fn route_out(rs: &[ResourceSpec], subnet: &str) -> (ResourceSpec, ResourceKind, ResourceSpec) {
        let rt = rs
            .iter()
            .find(|r| r.kind == ResourceKind::RouteTable && ids(&r.props["subnets"]).iter().any(|s| s == subnet))
            .unwrap_or_else(|| panic!("subnet {subnet} has no route table: only the VPC's local route"))
            .clone();
        let (kind, target) = match (rt.props["internetGateway"].as_str(), rt.props["natGateway"].as_str()) {
            (Some(igw), None) => (ResourceKind::InternetGateway, by_id(rs, igw)),
            (None, Some(nat)) => (ResourceKind::NatGateway, by_id(rs, nat)),
            other => panic!("{} routes 0.0.0.0/0 to {other:?}", rt.id),
        };
        assert_eq!(target.kind, kind);
        (rt, kind, target)
    }

    #[test]
    fn aws_requirement_node_group_instances_have_a_route_out() {
        // Public (the default): public subnets that give public IPs, routed to the internet gateway.
        assert_eq!(Blueprint::default().node_subnets, NodeSubnets::Public);
        let rs = valid().resources();
        let nodes = by_id(&rs, "nodes");
        let subnets = ids(&nodes.props["subnets"]);
        assert_eq!(subnets.len(), 2);
        for s in &subnets {
            assert_eq!(by_id(&rs, s).props["public"], true, "{s} must map public IPs on launch, or the nodes have no way out");
            let (rt, kind, _) = route_out(&rs, s);
            assert_eq!(kind, ResourceKind::InternetGateway);
            assert!(nodes.depends_on.contains(&rt.id), "the nodes must wait for {} (their route out)", rt.id);
        }
        assert!(!rs.iter().any(|r| matches!(r.kind, ResourceKind::NatGateway | ResourceKind::ElasticIp)), "no NAT gateway is paid for in the public layout");

        // Private behind a NAT gateway: the NAT gateway has an Elastic IP and sits in a public
        // subnet whose own route goes to the internet gateway.
        let rs = Blueprint { node_subnets: NodeSubnets::PrivateNat, ..valid() }.resources();
        let nodes = by_id(&rs, "nodes");
        let subnets = ids(&nodes.props["subnets"]);
        assert_eq!(subnets, ["subnet-private-a", "subnet-private-b"]);
        assert_eq!(nodes.props["publicIps"], false);
        for s in &subnets {
            assert_eq!(by_id(&rs, s).props["public"], false);
            let (rt, kind, nat) = route_out(&rs, s);
            assert_eq!(kind, ResourceKind::NatGateway);
            assert!(nodes.depends_on.contains(&rt.id), "the nodes must wait for {}", rt.id);
            let home = nat.props["subnet"].as_str().unwrap();
            assert_eq!(by_id(&rs, home).props["public"], true, "a NAT gateway works from a public subnet only");
            assert_eq!(route_out(&rs, home).1, ResourceKind::InternetGateway);
            assert_eq!(by_id(&rs, nat.props["elasticIp"].as_str().unwrap()).kind, ResourceKind::ElasticIp);
            assert!(nat.depends_on.contains(&"eip-nat".to_string()));
        }
    }

    #[test]
    fn aws_requirement_subnets_carry_the_load_balancer_discovery_tags() {
        for layout in [NodeSubnets::Public, NodeSubnets::PrivateNat] {
            let b = Blueprint { project: "shop".into(), node_subnets: layout, ..valid() };
            let rs = b.resources();
            let cluster = by_id(&rs, "eks").name;
            assert_eq!(cluster, "shop-eks");
            let subnets: Vec<_> = rs.iter().filter(|r| r.kind == ResourceKind::Subnet).collect();
            assert_eq!(subnets.len(), 4);
            for s in subnets {
                let tags = &s.props["tags"];
                assert_eq!(tags[format!("kubernetes.io/cluster/{cluster}")], "shared", "{}", s.id);
                if s.props["public"] == true {
                    assert_eq!(tags["kubernetes.io/role/elb"], "1", "{}", s.id);
                    assert!(tags["kubernetes.io/role/internal-elb"].is_null());
                } else {
                    assert_eq!(tags["kubernetes.io/role/internal-elb"], "1", "{}", s.id);
                    assert!(tags["kubernetes.io/role/elb"].is_null());
                }
            }
        }
    }

    #[test]
    fn aws_requirement_rds_stays_private() {
        for layout in [NodeSubnets::Public, NodeSubnets::PrivateNat] {
            let b = Blueprint { node_subnets: layout, ..valid() };
            let rs = b.resources();
            let vpc: Ipv4Net = b.vpc_cidr.parse().unwrap();
            let dbs: Vec<_> = rs.iter().filter(|r| r.kind == ResourceKind::DbInstance).collect();
            assert_eq!(dbs.len(), 2);
            for db in dbs {
                assert_eq!(db.props["publiclyAccessible"], false, "{}", db.id);
                let group = by_id(&rs, db.props["dbSubnetGroup"].as_str().unwrap());
                for s in ids(&group.props["subnets"]) {
                    let subnet = by_id(&rs, &s);
                    assert_eq!(subnet.props["public"], false, "{} puts {} in a public subnet", group.id, db.id);
                    // No route from the internet: the subnet's table, if any, never points at the gateway.
                    if let Some(rt) = rs.iter().find(|r| r.kind == ResourceKind::RouteTable && ids(&r.props["subnets"]).contains(&s)) {
                        assert!(rt.props["internetGateway"].is_null(), "{s} is routed to the internet gateway");
                    }
                }
                for sg in ids(&db.props["securityGroups"]) {
                    let sg = by_id(&rs, &sg);
                    for rule in sg.props["ingress"].as_array().unwrap() {
                        let cidr: Ipv4Net = rule["cidr"].as_str().unwrap().parse().unwrap();
                        assert!(vpc.contains(&cidr), "{} lets {cidr} in: only the VPC may reach the databases", sg.id);
                    }
                }
            }
        }
    }

    #[test]
    fn aws_requirement_instances_require_imdsv2() {
        let rs = with_vms().resources();
        let required = |m: &serde_json::Value, who: &str| {
            assert_eq!(m["httpTokens"], "required", "{who} allows IMDSv1");
            assert_eq!(m["httpPutResponseHopLimit"], 2, "{who}: containers on the host need a hop limit of 2");
            assert_eq!(m["httpEndpoint"], "enabled", "{who}");
        };
        let vms: Vec<_> = rs.iter().filter(|r| r.kind == ResourceKind::Instance).collect();
        assert_eq!(vms.len(), 2);
        for vm in vms {
            required(&vm.props["metadataOptions"], &vm.id);
        }
        // EKS's own default launch template leaves it to the AMI: the nodes get one of ours.
        let nodes = by_id(&rs, "nodes");
        let lt = by_id(&rs, nodes.props["launchTemplate"].as_str().expect("the node group names a launch template"));
        assert_eq!(lt.kind, ResourceKind::LaunchTemplate);
        assert!(nodes.depends_on.contains(&lt.id));
        required(&lt.props["metadataOptions"], &lt.id);
    }

    #[test]
    fn aws_requirement_the_admin_cidr_defaults_to_the_users_address_never_to_the_world() {
        let d = Blueprint::default();
        assert_ne!(d.admin_cidr, "0.0.0.0/0");
        // Not filled in (no address detected) with a VM on: refused with what to do, before any
        // AWS call. Without a VM nothing opens a port to it, and nothing needs it.
        for on in [Blueprint { ci_vm: true, ..valid() }, Blueprint { test_vm: true, ..valid() }] {
            let e = Blueprint { admin_cidr: String::new(), ..on }.validate(None).unwrap_err();
            assert_eq!(e.what, "Blueprint not valid");
            assert!(e.why.contains("admin CIDR") && e.why.contains("not set"), "{e}");
            assert!(e.fix.contains("/32"), "{e}");
        }
        Blueprint { admin_cidr: String::new(), ..valid() }.validate(None).unwrap();
        assert!(err(Blueprint { admin_cidr: "0.0.0.0/33".into(), ..valid() }).contains("admin CIDR"));
        // Filled in: SSH and Jenkins open to that address only.
        let rs = with_vms().resources();
        for sg in ["sg-ci", "sg-test"] {
            for rule in by_id(&rs, sg).props["ingress"].as_array().unwrap() {
                assert_eq!(rule["cidr"], "203.0.113.7/32", "{sg}");
            }
        }
    }

    #[test]
    fn aws_requirement_the_node_role_can_pull_from_ecr() {
        let rs = valid().resources();
        let nodes = by_id(&rs, "nodes");
        let role = by_id(&rs, nodes.props["role"].as_str().unwrap());
        assert_eq!(role.props["service"], "ec2.amazonaws.com");
        assert!(ids(&role.props["managedPolicies"]).contains(&ECR_READ_ONLY_POLICY.to_string()), "{}", role.props);
    }

    #[test]
    fn aws_requirement_every_service_has_an_ecr_repository_that_scans_and_expires_old_images() {
        assert!(!valid().resources().iter().any(|r| r.kind == ResourceKind::EcrRepository), "no services, no repositories");
        let b = Blueprint { project: "shop".into(), services: vec!["web".into(), "api".into()], ecr_keep_images: 7, ..valid() };
        let repos: Vec<_> = b.resources().into_iter().filter(|r| r.kind == ResourceKind::EcrRepository).collect();
        assert_eq!(repos.iter().map(|r| (r.id.as_str(), r.name.as_str())).collect::<Vec<_>>(), [("ecr-web", "shop-web"), ("ecr-api", "shop-api")]);
        for r in &repos {
            assert_eq!(r.props["scanOnPush"], true);
            let rule = &r.props["lifecyclePolicy"]["rules"][0];
            assert_eq!(rule["selection"]["countType"], "imageCountMoreThan");
            assert_eq!(rule["selection"]["countNumber"], 7);
            assert_eq!(rule["selection"]["tagStatus"], "any");
            assert_eq!(rule["action"]["type"], "expire");
        }
        assert_eq!(b.repository_name("web"), "shop-web");
    }

    #[test]
    fn aws_requirement_every_resource_is_used_by_the_flow_or_is_a_stated_opt_in() {
        // What the flow uses (the Launch journey: network, cluster, nodes, databases for the
        // live and test environments, a registry per service). Anything else must be an opt-in
        // part, off by default, with its purpose stated.
        let used = [
            "vpc", "igw", "subnet-public-a", "subnet-public-b", "subnet-private-a", "subnet-private-b", "rt-public",
            "eip-nat", "nat", "rt-private", "sg-db", "sg-cluster", "db-subnets", "db-test", "db-live",
            "role-cluster", "role-nodes", "eks", "lt-nodes", "nodes",
        ];
        let d = Blueprint::default();
        assert!(!d.ci_vm && !d.test_vm, "the VMs are opt-in: off by default");
        let parts = d.opt_ins();
        assert_eq!(parts.iter().map(|o| o.field.as_str()).collect::<Vec<_>>(), ["ciVm", "testVm"]);
        for o in &parts {
            assert!(!o.enabled, "{} is on by default", o.label);
            assert!(o.purpose.len() > 20 && o.purpose.ends_with('.'), "{}: state its purpose", o.label);
            // The field is the blueprint's own (what `slipway blueprint --set` and the page set).
            assert_eq!(serde_json::to_value(&d).unwrap()[&o.field], false, "{}", o.field);
        }
        assert!(parts[0].purpose.contains("Jenkins"));
        assert!(parts[1].purpose.contains("test database"));
        let opt_in: std::collections::HashSet<&str> = parts.iter().flat_map(|o| o.resources.iter().map(String::as_str)).collect();
        for b in [valid(), with_vms(), Blueprint { node_subnets: NodeSubnets::PrivateNat, services: vec!["web".into()], ..with_vms() }] {
            for r in b.resources() {
                let ok = used.contains(&r.id.as_str()) || r.kind == ResourceKind::EcrRepository || opt_in.contains(r.id.as_str());
                assert!(ok, "{} ({}) is neither used by the flow nor an opt-in part with a purpose", r.id, r.kind.label());
            }
        }
        // With the defaults, nothing opt-in is created.
        let rs = valid().resources();
        for id in &opt_in {
            assert!(!rs.iter().any(|r| r.id == *id), "{id} is created although nothing turned it on");
        }
        assert!(!rs.iter().any(|r| r.kind == ResourceKind::Instance || r.kind == ResourceKind::KeyPair));
    }

    #[test]
    fn opting_in_adds_each_vm_with_its_dependencies_exactly_as_before() {
        let ids_of = |b: &Blueprint| b.resources().into_iter().map(|r| r.id).collect::<Vec<_>>();
        let base = ids_of(&valid());
        let ci = Blueprint { ci_vm: true, ..valid() };
        let added: Vec<String> = ids_of(&ci).into_iter().filter(|i| !base.contains(i)).collect();
        assert_eq!(added, ["sg-ci", "keypair", "vm-ci"]);
        assert!(ci.opt_ins()[0].enabled && !ci.opt_ins()[1].enabled);
        let test = Blueprint { test_vm: true, ..valid() };
        let added: Vec<String> = ids_of(&test).into_iter().filter(|i| !base.contains(i)).collect();
        assert_eq!(added, ["sg-test", "keypair", "vm-test"]);
        // Both: the order and the specs of the blueprint that always had them.
        let rs = with_vms().resources();
        assert_eq!(
            rs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>()[7..14],
            ["sg-ci", "sg-test", "sg-db", "sg-cluster", "keypair", "vm-ci", "vm-test"]
        );
        let vm = by_id(&rs, "vm-ci");
        assert_eq!(vm.depends_on, ["subnet-public-a", "sg-ci", "keypair"]);
        assert_eq!(vm.props["userData"], cloudinit::ci_vm());
        assert_eq!(vm.props["instanceType"], "t3.medium");
        let vm = by_id(&rs, "vm-test");
        assert_eq!(vm.depends_on, ["subnet-public-b", "sg-test", "keypair"]);
        assert_eq!(vm.props["userData"], cloudinit::test_vm());
        assert_eq!(vm.props["instanceType"], "t3.small");
        // Set the way the CLI's `blueprint --set ciVm=true` and the page's form do: by field name.
        let mut v = serde_json::to_value(valid()).unwrap();
        v["ciVm"] = json!(true);
        let b: Blueprint = serde_json::from_value(v).unwrap();
        assert!(b.resources().iter().any(|r| r.id == "vm-ci"));
    }
}
