//! The architecture as data: parameters a person edits, their validation (before any AWS call),
//! and the expansion into [`ResourceSpec`]s.
//!
//! Props per kind (what a [`super::CloudDriver`] reads; names of other resources are logical ids):
//! - `vpc`: `cidr`, `enableDnsHostnames` (bool), `enableDnsSupport` (bool)
//! - `internetGateway`: `vpc`
//! - `subnet`: `vpc`, `cidr`, `az`, `public` (bool: map public IPs on launch)
//! - `routeTable`: `vpc`, `internetGateway` (route 0.0.0.0/0 to it), `subnets` (ids to associate)
//! - `securityGroup`: `vpc`, `description`, `ingress`: [{`protocol`, `fromPort`, `toPort`, `cidr`}]
//! - `keyPair`: (name only; the driver returns the private key once as `Created::secret`)
//! - `instance`: `subnet`, `securityGroups` [ids], `keyPair`, `instanceType`, `ami` (an AMI id,
//!   or `resolve:ssm:<parameter>`), `userData` (cloud-init text, the driver base64-encodes it)
//! - `dbSubnetGroup`: `subnets` [ids], `description`
//! - `dbInstance`: `engine` ("mysql"), `engineVersion`, `instanceClass`, `allocatedStorage` (GB),
//!   `dbSubnetGroup`, `securityGroups` [ids], `masterUsername`, `dbName`; the master password comes
//!   as `CreateCtx::secret`
//! - `iamRole`: `service` (trusted principal, e.g. eks.amazonaws.com), `managedPolicies` [ARNs]
//! - `eksCluster`: `version`, `role`, `subnets` [ids], `securityGroups` [ids]
//! - `eksNodegroup`: `cluster`, `role`, `subnets` [ids], `instanceType`, `desiredSize`, `minSize`,
//!   `maxSize`
//!
//! Observed attrs the plan compares (drivers report them with the same keys): vpc `cidr`;
//! subnet `cidr`, `az`; instance `instanceType`; dbInstance `instanceClass`, `allocatedStorage`,
//! `engineVersion`; eksCluster `version`; eksNodegroup `instanceType`, `desiredSize`.
//! Outputs dependents read: dbInstance `endpoint`, `port`; eksCluster `endpoint`, `certificateAuthority`,
//! `arn`; iamRole `arn`; instance `publicIp`, `privateIp`; securityGroup / subnet / vpc ids are the
//! physical ids.

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use serde_json::json;
use ts_rs::TS;

use super::cloudinit;
use super::model::{ResourceKind, ResourceSpec};
use crate::UserError;

pub const AMAZON_LINUX_SSM: &str = "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

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
    /// Two public subnets (CI and test VMs, load balancers), one per AZ.
    pub public_subnets: Vec<String>,
    /// Two private subnets (databases, cluster nodes), one per AZ.
    pub private_subnets: Vec<String>,
    /// Who may SSH to the VMs and open Jenkins (the user's IP as a /32).
    pub admin_cidr: String,
    pub ci_instance_type: String,
    pub test_instance_type: String,
    /// An AMI id, or None for the latest Amazon Linux 2023 from SSM.
    pub ami: Option<String>,
    pub db_instance_class: String,
    pub db_storage_gb: u32,
    pub db_engine_version: String,
    pub node_instance_type: String,
    pub node_count: u32,
    pub kubernetes_version: String,
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
            admin_cidr: "0.0.0.0/0".into(),
            ci_instance_type: "t3.medium".into(),
            test_instance_type: "t3.small".into(),
            ami: None,
            db_instance_class: "db.t3.micro".into(),
            db_storage_gb: 20,
            db_engine_version: "8.0".into(),
            node_instance_type: "t3.medium".into(),
            node_count: 2,
            kubernetes_version: "1.30".into(),
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
        cidr("admin CIDR", &self.admin_cidr)?;
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
        if let Some(ami) = &self.ami {
            if !ami.starts_with("ami-") {
                return Err(invalid(format!("'{ami}' is not an AMI id"), "Leave it empty for Amazon Linux 2023, or use an id like ami-0abc..."));
            }
        }
        Ok(())
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
        vec![
            r("vpc", ResourceKind::Vpc, format!("{p}-vpc"), &[], json!({"cidr": vpc, "enableDnsHostnames": true, "enableDnsSupport": true}), 5),
            r("igw", ResourceKind::InternetGateway, format!("{p}-igw"), &["vpc"], json!({"vpc": "vpc"}), 5),
            r("subnet-public-a", ResourceKind::Subnet, format!("{p}-public-a"), &["vpc"], json!({"vpc": "vpc", "cidr": self.public_subnets[0], "az": self.azs[0], "public": true}), 5),
            r("subnet-public-b", ResourceKind::Subnet, format!("{p}-public-b"), &["vpc"], json!({"vpc": "vpc", "cidr": self.public_subnets[1], "az": self.azs[1], "public": true}), 5),
            r("subnet-private-a", ResourceKind::Subnet, format!("{p}-private-a"), &["vpc"], json!({"vpc": "vpc", "cidr": self.private_subnets[0], "az": self.azs[0], "public": false}), 5),
            r("subnet-private-b", ResourceKind::Subnet, format!("{p}-private-b"), &["vpc"], json!({"vpc": "vpc", "cidr": self.private_subnets[1], "az": self.azs[1], "public": false}), 5),
            r("rt-public", ResourceKind::RouteTable, format!("{p}-public"), &["vpc", "igw", "subnet-public-a", "subnet-public-b"],
              json!({"vpc": "vpc", "internetGateway": "igw", "subnets": ["subnet-public-a", "subnet-public-b"]}), 5),
            r("sg-ci", ResourceKind::SecurityGroup, format!("{p}-ci"), &["vpc"],
              json!({"vpc": "vpc", "description": "Slipway CI VM: SSH and Jenkins from the admin address", "ingress": [tcp(22, &self.admin_cidr), tcp(8080, &self.admin_cidr)]}), 5),
            r("sg-test", ResourceKind::SecurityGroup, format!("{p}-test"), &["vpc"],
              json!({"vpc": "vpc", "description": "Slipway test VM: SSH from the admin address", "ingress": [tcp(22, &self.admin_cidr)]}), 5),
            r("sg-db", ResourceKind::SecurityGroup, format!("{p}-db"), &["vpc"],
              json!({"vpc": "vpc", "description": "Slipway databases: MySQL from inside the VPC", "ingress": [tcp(3306, vpc)]}), 5),
            r("sg-cluster", ResourceKind::SecurityGroup, format!("{p}-cluster"), &["vpc"],
              json!({"vpc": "vpc", "description": "Slipway cluster: HTTPS and HTTP", "ingress": [tcp(443, "0.0.0.0/0"), tcp(80, "0.0.0.0/0")]}), 5),
            r("keypair", ResourceKind::KeyPair, format!("{p}-key"), &[], json!({}), 2),
            r("vm-ci", ResourceKind::Instance, format!("{p}-ci"), &["subnet-public-a", "sg-ci", "keypair"],
              json!({"subnet": "subnet-public-a", "securityGroups": ["sg-ci"], "keyPair": "keypair", "instanceType": self.ci_instance_type, "ami": ami, "userData": cloudinit::ci_vm()}), 60),
            r("vm-test", ResourceKind::Instance, format!("{p}-test"), &["subnet-public-b", "sg-test", "keypair"],
              json!({"subnet": "subnet-public-b", "securityGroups": ["sg-test"], "keyPair": "keypair", "instanceType": self.test_instance_type, "ami": ami, "userData": cloudinit::test_vm()}), 60),
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
                  "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"]}), 5),
            r("eks", ResourceKind::EksCluster, format!("{p}-eks"), &["role-cluster", "subnet-private-a", "subnet-private-b", "subnet-public-a", "subnet-public-b", "sg-cluster"],
              json!({"version": self.kubernetes_version, "role": "role-cluster", "subnets": ["subnet-private-a", "subnet-private-b", "subnet-public-a", "subnet-public-b"], "securityGroups": ["sg-cluster"]}), 600),
            r("nodes", ResourceKind::EksNodegroup, format!("{p}-nodes"), &["eks", "role-nodes", "subnet-private-a", "subnet-private-b"],
              json!({"cluster": "eks", "role": "role-nodes", "subnets": ["subnet-private-a", "subnet-private-b"], "instanceType": self.node_instance_type,
                     "desiredSize": self.node_count, "minSize": 1, "maxSize": self.node_count.max(1) * 2}), 240),
        ]
    }

    fn db_props(&self, db_name: &str) -> serde_json::Value {
        json!({"engine": "mysql", "engineVersion": self.db_engine_version, "instanceClass": self.db_instance_class,
               "allocatedStorage": self.db_storage_gb, "dbSubnetGroup": "db-subnets", "securityGroups": ["sg-db"],
               "masterUsername": "admin", "dbName": db_name})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(b: Blueprint) -> String {
        b.validate(Some(&["us-east-1a".into(), "us-east-1b".into(), "us-east-1c".into()])).unwrap_err().to_string()
    }

    #[test]
    fn the_default_blueprint_is_valid_and_every_dependency_comes_first() {
        let b = Blueprint::default();
        b.validate(Some(&["us-east-1a".into(), "us-east-1b".into()])).unwrap();
        let rs = b.resources();
        let mut seen = std::collections::HashSet::new();
        for r in &rs {
            for d in &r.depends_on {
                assert!(seen.contains(d.as_str()), "{} depends on {d}, which comes later", r.id);
            }
            assert!(seen.insert(r.id.as_str()), "duplicate id {}", r.id);
        }
        assert_eq!(rs.len(), 21);
    }

    #[test]
    fn bad_parameters_are_refused_with_the_reason() {
        let d = Blueprint::default;
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
    }
}
