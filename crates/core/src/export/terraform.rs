//! The blueprint as Terraform for the AWS provider: `main.tf` (one resource per blueprint
//! resource, with the names and tags `slipway apply` gives them, plus the route table
//! associations and IAM policy attachments the AWS provider keeps as resources of their own),
//! `variables.tf` (the blueprint's parameters, their defaults the blueprint's values; the
//! database passwords and the SSH public key without a default, the passwords sensitive) and
//! `outputs.tf`.
//!
//! The resources come from [`Blueprint::resources`] itself, expanded a second time from a
//! "probe" blueprint whose every parameter is a marker naming its variable: wherever a
//! parameter ends up in a resource's props, the marker shows which variable to reference. So
//! the export follows the blueprint without a second copy of its rules.

use serde_json::Value;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use super::ExportFile;
use crate::provision::blueprint::{Blueprint, AMAZON_LINUX_SSM};
use crate::provision::model::{ResourceKind, ResourceSpec, TAG_PROJECT, TAG_RESOURCE};
use crate::UserError;

const OPEN: char = '\u{1}';
const CLOSE: char = '\u{2}';

fn mark(expr: &str) -> String {
    format!("{OPEN}{expr}{CLOSE}")
}

/// The Terraform resource type of a blueprint resource kind.
pub fn resource_type(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Vpc => "aws_vpc",
        ResourceKind::InternetGateway => "aws_internet_gateway",
        ResourceKind::Subnet => "aws_subnet",
        ResourceKind::RouteTable => "aws_route_table",
        ResourceKind::SecurityGroup => "aws_security_group",
        ResourceKind::KeyPair => "aws_key_pair",
        ResourceKind::Instance => "aws_instance",
        ResourceKind::DbSubnetGroup => "aws_db_subnet_group",
        ResourceKind::DbInstance => "aws_db_instance",
        ResourceKind::IamRole => "aws_iam_role",
        ResourceKind::EksCluster => "aws_eks_cluster",
        ResourceKind::EksNodegroup => "aws_eks_node_group",
        ResourceKind::ElasticIp => "aws_eip",
        ResourceKind::NatGateway => "aws_nat_gateway",
        ResourceKind::LaunchTemplate => "aws_launch_template",
        ResourceKind::EcrRepository => "aws_ecr_repository",
    }
}

/// The Terraform name of a blueprint resource (`subnet-public-a` is `subnet_public_a`,
/// `ecr-web.v2` is `ecr_web_v2`).
pub fn resource_name(logical_id: &str) -> String {
    logical_id.replace(['-', '.'], "_")
}

/// The variable holding a database instance's master password.
pub fn password_variable(logical_id: &str) -> String {
    format!("{}_password", resource_name(logical_id))
}

/// An HCL expression.
#[derive(Debug, Clone)]
enum Hcl {
    /// Written as is (`var.vpc_cidr`, `aws_vpc.vpc.id`, `true`, `20`).
    Raw(String),
    /// A quoted string; markers become `${...}` interpolations.
    Str(String),
    List(Vec<Hcl>),
    Object(Vec<(String, Hcl)>),
    /// A `<<EOT` heredoc.
    Heredoc(String),
}

fn raw(s: impl Into<String>) -> Hcl {
    Hcl::Raw(s.into())
}

fn s(v: impl Into<String>) -> Hcl {
    Hcl::Str(v.into())
}

impl Hcl {
    /// A JSON prop as HCL: a string that is exactly one marker is that expression.
    fn from_json(v: &Value) -> Hcl {
        match v {
            Value::String(t) => match t
                .strip_prefix(OPEN)
                .and_then(|x| x.strip_suffix(CLOSE))
                .filter(|x| !x.contains(OPEN) && !x.contains(CLOSE))
            {
                Some(expr) => raw(expr),
                None => s(t.clone()),
            },
            Value::Array(a) => Hcl::List(a.iter().map(Hcl::from_json).collect()),
            Value::Object(o) => Hcl::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), Hcl::from_json(v)))
                    .collect(),
            ),
            Value::Null => raw("null"),
            other => raw(other.to_string()),
        }
    }

    fn is_multiline(&self) -> bool {
        self.render(0).contains('\n')
    }

    fn render(&self, indent: usize) -> String {
        let pad = "  ".repeat(indent + 1);
        let end = "  ".repeat(indent);
        match self {
            Hcl::Raw(r) => r.clone(),
            Hcl::Str(t) => quote(t),
            Hcl::List(items) => {
                let flat: Vec<String> = items.iter().map(|i| i.render(indent + 1)).collect();
                let one_line = format!("[{}]", flat.join(", "));
                if !one_line.contains('\n') && one_line.len() <= 80 {
                    one_line
                } else {
                    format!(
                        "[\n{}{end}]",
                        flat.iter()
                            .map(|f| format!("{pad}{f},\n"))
                            .collect::<String>()
                    )
                }
            }
            Hcl::Object(entries) if entries.is_empty() => "{}".into(),
            Hcl::Object(entries) => {
                let keys: Vec<String> = entries.iter().map(|(k, _)| key(k)).collect();
                let width = keys.iter().map(String::len).max().unwrap_or(0);
                let mut out = "{\n".to_string();
                for (k, (_, v)) in keys.iter().zip(entries) {
                    out.push_str(&format!("{pad}{k:width$} = {}\n", v.render(indent + 1)));
                }
                out.push_str(&end);
                out.push('}');
                out
            }
            Hcl::Heredoc(t) => {
                let mut body = escape_template(t);
                if !body.ends_with('\n') {
                    body.push('\n');
                }
                format!("<<EOT\n{body}EOT")
            }
        }
    }
}

/// An object key: a bare identifier when it is one, else quoted.
fn key(k: &str) -> String {
    let ident = k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ident {
        k.to_string()
    } else {
        quote(k)
    }
}

/// Literal text inside a template: `${` and `%{` would start a template sequence.
fn escape_template(t: &str) -> String {
    t.replace("${", "$${").replace("%{", "%%{")
}

/// A quoted HCL template string: markers are interpolations, everything else literal.
fn quote(t: &str) -> String {
    let mut out = String::from("\"");
    let mut rest = t;
    loop {
        let (lit, after) = match rest.find(OPEN) {
            Some(i) => (&rest[..i], Some(&rest[i + OPEN.len_utf8()..])),
            None => (rest, None),
        };
        let esc = lit
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
            .replace('\r', "\\r")
            .replace('\t', "\\t");
        out.push_str(&escape_template(&esc));
        let Some(after) = after else { break };
        let (expr, tail) = after.split_once(CLOSE).unwrap_or((after, ""));
        out.push_str(&format!("${{{expr}}}"));
        rest = tail;
    }
    out.push('"');
    out
}

/// A block: `type "label" ... { body }`.
struct Block {
    head: String,
    body: Vec<Item>,
}

enum Item {
    Attr(String, Hcl),
    Block(Block),
    Blank,
}

fn block(kind: &str, labels: &[&str], body: Vec<Item>) -> Block {
    let mut head = kind.to_string();
    for l in labels {
        head.push(' ');
        head.push_str(&quote(l));
    }
    Block { head, body }
}

fn attr(k: &str, v: Hcl) -> Item {
    Item::Attr(k.to_string(), v)
}

impl Block {
    fn render(&self, indent: usize) -> String {
        let pad = "  ".repeat(indent);
        let inner = "  ".repeat(indent + 1);
        let mut out = format!("{pad}{} {{\n", self.head);
        // Consecutive one-line attributes align their `=` (as `terraform fmt` does).
        let mut i = 0;
        while i < self.body.len() {
            match &self.body[i] {
                Item::Attr(..) => {
                    let mut j = i;
                    while j < self.body.len()
                        && matches!(&self.body[j], Item::Attr(_, v) if !v.is_multiline())
                    {
                        j += 1;
                    }
                    if j == i {
                        if let Item::Attr(k, v) = &self.body[i] {
                            out.push_str(&format!("{inner}{k} = {}\n", v.render(indent + 1)));
                        }
                        i += 1;
                        continue;
                    }
                    let width = self.body[i..j]
                        .iter()
                        .map(|it| {
                            if let Item::Attr(k, _) = it {
                                k.len()
                            } else {
                                0
                            }
                        })
                        .max()
                        .unwrap_or(0);
                    for it in &self.body[i..j] {
                        if let Item::Attr(k, v) = it {
                            out.push_str(&format!(
                                "{inner}{k:width$} = {}\n",
                                v.render(indent + 1)
                            ));
                        }
                    }
                    i = j;
                }
                Item::Block(b) => {
                    out.push_str(&b.render(indent + 1));
                    i += 1;
                }
                Item::Blank => {
                    out.push('\n');
                    i += 1;
                }
            }
        }
        out.push_str(&pad);
        out.push_str("}\n");
        out
    }
}

/// A spec's props, remembering which ones the export used (a test checks none is left out).
struct Props<'a> {
    spec: &'a ResourceSpec,
    used: RefCell<BTreeSet<String>>,
}

impl<'a> Props<'a> {
    fn new(spec: &'a ResourceSpec) -> Self {
        Self {
            spec,
            used: RefCell::new(BTreeSet::new()),
        }
    }

    fn get(&self, k: &str) -> &'a Value {
        self.used.borrow_mut().insert(k.to_string());
        &self.spec.props[k]
    }

    fn hcl(&self, k: &str) -> Hcl {
        Hcl::from_json(self.get(k))
    }

    fn ids(&self, k: &str) -> Vec<String> {
        self.get(k)
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }

    fn id(&self, k: &str) -> String {
        self.get(k).as_str().unwrap_or_default().to_string()
    }

    fn unused(&self) -> Vec<String> {
        let used = self.used.borrow();
        self.spec
            .props
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
            .filter(|k| !used.contains(*k))
            .cloned()
            .collect()
    }
}

/// One variable of variables.tf.
struct Var {
    name: &'static str,
    ty: &'static str,
    description: &'static str,
    default: Option<Value>,
    validation: Option<(&'static str, &'static str)>,
}

fn var(
    name: &'static str,
    ty: &'static str,
    description: &'static str,
    default: impl Into<Value>,
) -> Var {
    Var {
        name,
        ty,
        description,
        default: Some(default.into()),
        validation: None,
    }
}

/// The blueprint's parameters as variables (defaults: its values), and the probe blueprint
/// whose parameters are markers naming them. Written field by field, without `..`, so that a
/// new blueprint field does not compile until it is exported too.
fn parameters(bp: &Blueprint) -> (Vec<Var>, Blueprint) {
    let Blueprint {
        project,
        region,
        azs,
        vpc_cidr,
        public_subnets,
        private_subnets,
        admin_cidr,
        ci_vm,
        ci_instance_type,
        test_vm,
        test_instance_type,
        ami,
        db_instance_class,
        db_storage_gb,
        db_engine_version,
        node_instance_type,
        node_count,
        kubernetes_version,
        node_subnets,
        services,
        ecr_keep_images,
    } = bp.clone();
    let vars = vec![
        Var {
            validation: Some(("can(regex(\"^[a-z]([a-z0-9]|-[a-z0-9])*$\", var.project)) && length(var.project) >= 2 && length(var.project) <= 20", "2 to 20 lowercase letters, digits and single hyphens, starting with a letter.")),
            ..var("project", "string", "The name prefix of every resource and the value of its slipway:project tag.", project)
        },
        var("region", "string", "The AWS region.", region),
        Var {
            validation: Some(("length(var.availability_zones) == 2", "Two availability zones of the region.")),
            ..var("availability_zones", "list(string)", "Two availability zones of the region, one per public and private subnet.", azs)
        },
        var("vpc_cidr", "string", "The VPC's address range.", vpc_cidr),
        var("public_subnet_cidrs", "list(string)", "Two public subnets (load balancers, the nodes, the opt-in VMs), one per availability zone.", public_subnets),
        var("private_subnet_cidrs", "list(string)", "Two private subnets (databases, cluster nodes), one per availability zone.", private_subnets),
        Var {
            // Not set in the blueprint (no address detected): Terraform asks for it, never 0.0.0.0/0.
            default: (!admin_cidr.trim().is_empty()).then(|| admin_cidr.into()),
            validation: Some(("can(cidrhost(var.admin_cidr, 0))", "An IPv4 CIDR, e.g. your address as 203.0.113.7/32.")),
            ..var("admin_cidr", "string", "Who may SSH to the VMs and open Jenkins (your address as a /32).", "")
        },
        var("ci_instance_type", "string", "The CI VM's instance type.", ci_instance_type),
        var("test_instance_type", "string", "The test VM's instance type.", test_instance_type),
        var("ami", "string", "The VMs' AMI id; empty for the latest Amazon Linux 2023 (from SSM).", ami.unwrap_or_default()),
        var("db_instance_class", "string", "The RDS instance class of both databases.", db_instance_class),
        var("db_storage_gb", "number", "Storage of each database, in GB.", db_storage_gb),
        var("db_engine_version", "string", "The MySQL engine version.", db_engine_version),
        var("node_instance_type", "string", "The EKS nodes' instance type.", node_instance_type),
        Var { validation: Some(("var.node_count >= 1 && var.node_count <= 100", "1 to 100 nodes.")), ..var("node_count", "number", "How many EKS nodes run (the group scales from 1 to twice this).", node_count) },
        var("kubernetes_version", "string", "The EKS Kubernetes version.", kubernetes_version),
        Var {
            validation: Some(("var.ecr_keep_images >= 1 && var.ecr_keep_images <= 1000", "Keep 1 to 1000 images.")),
            ..var("ecr_keep_images", "number", "How many images each ECR repository keeps (the newest; older ones expire).", ecr_keep_images)
        },
    ];
    let probe = Blueprint {
        project: mark("var.project"),
        region: mark("var.region"),
        azs: (0..bp.azs.len())
            .map(|i| mark(&format!("var.availability_zones[{i}]")))
            .collect(),
        vpc_cidr: mark("var.vpc_cidr"),
        public_subnets: (0..bp.public_subnets.len())
            .map(|i| mark(&format!("var.public_subnet_cidrs[{i}]")))
            .collect(),
        private_subnets: (0..bp.private_subnets.len())
            .map(|i| mark(&format!("var.private_subnet_cidrs[{i}]")))
            .collect(),
        admin_cidr: mark("var.admin_cidr"),
        // The opt-in VMs, like the two below, choose which resources exist.
        ci_vm,
        ci_instance_type: mark("var.ci_instance_type"),
        test_vm,
        test_instance_type: mark("var.test_instance_type"),
        ami: Some(mark("local.ami")),
        db_instance_class: mark("var.db_instance_class"),
        // Numbers cannot carry a marker: the kinds that use them reference their variables.
        db_storage_gb,
        db_engine_version: mark("var.db_engine_version"),
        node_instance_type: mark("var.node_instance_type"),
        node_count,
        kubernetes_version: mark("var.kubernetes_version"),
        // These two choose which resources exist (a NAT gateway or not, a repository per
        // service): the export is written for the values they have.
        node_subnets,
        services,
        ecr_keep_images,
    };
    (vars, probe)
}

struct Gen<'a> {
    kinds: BTreeMap<&'a str, ResourceKind>,
    /// Roles with policy attachments: what depends on the role waits for them.
    attachments: BTreeSet<String>,
}

impl Gen<'_> {
    fn r(&self, id: &str, attribute: &str) -> Hcl {
        let ty = self
            .kinds
            .get(id)
            .map(|k| resource_type(*k))
            .unwrap_or("unknown_resource");
        raw(format!("{ty}.{}.{attribute}", resource_name(id)))
    }

    fn rs(&self, ids: &[String], attribute: &str) -> Hcl {
        Hcl::List(ids.iter().map(|i| self.r(i, attribute)).collect())
    }

    /// Slipway's tags, then the spec's own (`tags`: the subnets' load-balancer discovery tags).
    fn tags(spec: &ResourceSpec, p: &Props) -> Item {
        let mut tags = vec![
            (TAG_PROJECT.into(), raw("var.project")),
            (TAG_RESOURCE.into(), s(spec.id.clone())),
            ("Name".into(), s(spec.name.clone())),
        ];
        for (k, v) in p.get("tags").as_object().into_iter().flatten() {
            tags.push((k.clone(), Hcl::from_json(v)));
        }
        attr("tags", Hcl::Object(tags))
    }

    /// `metadata_options` from a `metadataOptions` prop (IMDSv2 on instances and nodes).
    fn metadata_options(p: &Props) -> Item {
        let m = p.get("metadataOptions");
        Item::Block(block(
            "metadata_options",
            &[],
            vec![
                attr("http_endpoint", Hcl::from_json(&m["httpEndpoint"])),
                attr("http_tokens", Hcl::from_json(&m["httpTokens"])),
                attr("http_put_response_hop_limit", Hcl::from_json(&m["httpPutResponseHopLimit"])),
            ],
        ))
    }

    /// The resource blocks of one spec (its own, then what the provider keeps separately).
    fn resource(&self, spec: &ResourceSpec) -> Result<Vec<Block>, String> {
        let p = Props::new(spec);
        let name = resource_name(&spec.id);
        let ty = resource_type(spec.kind);
        let mut extra = vec![];
        let mut depends_on: Vec<String> = vec![];
        let mut body = match spec.kind {
            ResourceKind::Vpc => vec![
                attr("cidr_block", p.hcl("cidr")),
                attr("enable_dns_hostnames", p.hcl("enableDnsHostnames")),
                attr("enable_dns_support", p.hcl("enableDnsSupport")),
            ],
            ResourceKind::InternetGateway => vec![attr("vpc_id", self.r(&p.id("vpc"), "id"))],
            ResourceKind::Subnet => vec![
                attr("vpc_id", self.r(&p.id("vpc"), "id")),
                attr("cidr_block", p.hcl("cidr")),
                attr("availability_zone", p.hcl("az")),
                attr("map_public_ip_on_launch", p.hcl("public")),
            ],
            ResourceKind::RouteTable => {
                for subnet in p.ids("subnets") {
                    extra.push(block(
                        "resource",
                        &[
                            "aws_route_table_association",
                            &format!("{name}_{}", resource_name(&subnet)),
                        ],
                        vec![
                            attr("subnet_id", self.r(&subnet, "id")),
                            attr("route_table_id", raw(format!("{ty}.{name}.id"))),
                        ],
                    ));
                }
                let target = match p.get("natGateway").as_str() {
                    Some(nat) => attr("nat_gateway_id", self.r(nat, "id")),
                    None => attr("gateway_id", self.r(&p.id("internetGateway"), "id")),
                };
                vec![
                    attr("vpc_id", self.r(&p.id("vpc"), "id")),
                    Item::Blank,
                    Item::Block(block(
                        "route",
                        &[],
                        vec![attr("cidr_block", s("0.0.0.0/0")), target],
                    )),
                ]
            }
            ResourceKind::SecurityGroup => {
                let mut b = vec![
                    attr("name", s(spec.name.clone())),
                    attr("description", p.hcl("description")),
                    attr("vpc_id", self.r(&p.id("vpc"), "id")),
                ];
                for rule in p.get("ingress").as_array().into_iter().flatten() {
                    b.push(Item::Blank);
                    b.push(Item::Block(block(
                        "ingress",
                        &[],
                        vec![
                            attr("protocol", Hcl::from_json(&rule["protocol"])),
                            attr("from_port", Hcl::from_json(&rule["fromPort"])),
                            attr("to_port", Hcl::from_json(&rule["toPort"])),
                            attr(
                                "cidr_blocks",
                                Hcl::List(vec![Hcl::from_json(&rule["cidr"])]),
                            ),
                        ],
                    )));
                }
                // AWS gives a new group this rule; the provider removes it unless it is declared.
                b.push(Item::Blank);
                b.push(Item::Block(block(
                    "egress",
                    &[],
                    vec![
                        attr("protocol", s("-1")),
                        attr("from_port", raw("0")),
                        attr("to_port", raw("0")),
                        attr("cidr_blocks", Hcl::List(vec![s("0.0.0.0/0")])),
                    ],
                )));
                b
            }
            ResourceKind::KeyPair => vec![
                attr("key_name", s(spec.name.clone())),
                attr("public_key", raw("var.ssh_public_key")),
            ],
            ResourceKind::Instance => vec![
                attr("ami", p.hcl("ami")),
                attr("instance_type", p.hcl("instanceType")),
                attr("subnet_id", self.r(&p.id("subnet"), "id")),
                attr("associate_public_ip_address", p.hcl("publicIp")),
                attr(
                    "vpc_security_group_ids",
                    self.rs(&p.ids("securityGroups"), "id"),
                ),
                attr("key_name", self.r(&p.id("keyPair"), "key_name")),
                attr(
                    "user_data",
                    Hcl::Heredoc(p.get("userData").as_str().unwrap_or_default().to_string()),
                ),
                Item::Blank,
                Self::metadata_options(&p),
                Item::Blank,
                // Slipway compares only the instance type: a newer AMI or edited cloud-init does
                // not replace a running VM.
                Item::Block(block(
                    "lifecycle",
                    &[],
                    vec![attr(
                        "ignore_changes",
                        Hcl::List(vec![raw("ami"), raw("user_data")]),
                    )],
                )),
            ],
            ResourceKind::DbSubnetGroup => vec![
                attr("name", s(spec.name.clone())),
                attr("description", p.hcl("description")),
                attr("subnet_ids", self.rs(&p.ids("subnets"), "id")),
            ],
            ResourceKind::DbInstance => {
                p.get("allocatedStorage");
                vec![
                    attr("identifier", s(spec.name.clone())),
                    attr("engine", p.hcl("engine")),
                    attr("engine_version", p.hcl("engineVersion")),
                    attr("instance_class", p.hcl("instanceClass")),
                    attr("allocated_storage", raw("var.db_storage_gb")),
                    attr("db_name", p.hcl("dbName")),
                    attr("username", p.hcl("masterUsername")),
                    attr(
                        "password",
                        raw(format!("var.{}", password_variable(&spec.id))),
                    ),
                    attr(
                        "db_subnet_group_name",
                        self.r(&p.id("dbSubnetGroup"), "name"),
                    ),
                    attr(
                        "vpc_security_group_ids",
                        self.rs(&p.ids("securityGroups"), "id"),
                    ),
                    attr("publicly_accessible", p.hcl("publiclyAccessible")),
                    attr("storage_encrypted", raw("true")),
                    attr("skip_final_snapshot", raw("true")),
                    attr("delete_automated_backups", raw("true")),
                ]
            }
            ResourceKind::IamRole => {
                let policies = p.get("managedPolicies").clone();
                if policies.as_array().is_some_and(|a| !a.is_empty()) {
                    extra.push(block(
                        "resource",
                        &["aws_iam_role_policy_attachment", &name],
                        vec![
                            attr(
                                "for_each",
                                raw(format!("toset({})", Hcl::from_json(&policies).render(1))),
                            ),
                            attr("role", raw(format!("{ty}.{name}.name"))),
                            attr("policy_arn", raw("each.value")),
                        ],
                    ));
                }
                let policy = Hcl::Object(vec![
                    ("Version".into(), s("2012-10-17")),
                    (
                        "Statement".into(),
                        Hcl::List(vec![Hcl::Object(vec![
                            ("Effect".into(), s("Allow")),
                            (
                                "Principal".into(),
                                Hcl::Object(vec![("Service".into(), p.hcl("service"))]),
                            ),
                            ("Action".into(), s("sts:AssumeRole")),
                        ])]),
                    ),
                ]);
                vec![
                    attr("name", s(spec.name.clone())),
                    attr(
                        "assume_role_policy",
                        raw(format!("jsonencode({})", policy.render(1))),
                    ),
                ]
            }
            ResourceKind::EksCluster => {
                depends_on.extend(self.attachment(&p.id("role")));
                vec![
                    attr("name", s(spec.name.clone())),
                    attr("version", p.hcl("version")),
                    attr("role_arn", self.r(&p.id("role"), "arn")),
                    Item::Blank,
                    Item::Block(block(
                        "vpc_config",
                        &[],
                        vec![
                            attr("subnet_ids", self.rs(&p.ids("subnets"), "id")),
                            attr(
                                "security_group_ids",
                                self.rs(&p.ids("securityGroups"), "id"),
                            ),
                        ],
                    )),
                ]
            }
            ResourceKind::EksNodegroup => {
                depends_on.extend(self.attachment(&p.id("role")));
                p.get("desiredSize");
                p.get("maxSize");
                // Only for the cost: the subnets give the nodes their public addresses (or not).
                p.get("publicIps");
                let lt = p.id("launchTemplate");
                depends_on.extend(self.route_tables(spec));
                vec![
                    attr("cluster_name", self.r(&p.id("cluster"), "name")),
                    attr("node_group_name", s(spec.name.clone())),
                    attr("node_role_arn", self.r(&p.id("role"), "arn")),
                    attr("subnet_ids", self.rs(&p.ids("subnets"), "id")),
                    attr("instance_types", Hcl::List(vec![p.hcl("instanceType")])),
                    Item::Blank,
                    Item::Block(block(
                        "scaling_config",
                        &[],
                        vec![
                            attr("desired_size", raw("var.node_count")),
                            attr("min_size", p.hcl("minSize")),
                            attr("max_size", raw("var.node_count * 2")),
                        ],
                    )),
                    Item::Blank,
                    Item::Block(block(
                        "launch_template",
                        &[],
                        vec![attr("id", self.r(&lt, "id")), attr("version", self.r(&lt, "latest_version"))],
                    )),
                ]
            }
            ResourceKind::ElasticIp => vec![attr("domain", s("vpc"))],
            ResourceKind::NatGateway => {
                // The NAT gateway works once its subnet routes to the internet gateway.
                depends_on.extend(self.route_tables(spec));
                vec![
                    attr("allocation_id", self.r(&p.id("elasticIp"), "id")),
                    attr("subnet_id", self.r(&p.id("subnet"), "id")),
                ]
            }
            ResourceKind::LaunchTemplate => vec![
                attr("name", s(spec.name.clone())),
                attr("update_default_version", raw("true")),
                Item::Blank,
                Self::metadata_options(&p),
            ],
            ResourceKind::EcrRepository => {
                extra.push(block(
                    "resource",
                    &["aws_ecr_lifecycle_policy", &name],
                    vec![
                        attr("repository", raw(format!("{ty}.{name}.name"))),
                        attr("policy", raw(format!("jsonencode({})", lifecycle_policy(p.get("lifecyclePolicy")).render(1)))),
                    ],
                ));
                vec![
                    attr("name", s(spec.name.clone())),
                    // `slipway destroy` removes a repository with its images.
                    attr("force_delete", raw("true")),
                    Item::Blank,
                    Item::Block(block("image_scanning_configuration", &[], vec![attr("scan_on_push", p.hcl("scanOnPush"))])),
                ]
            }
        };
        body.push(Item::Blank);
        body.push(Self::tags(spec, &p));
        let unused = p.unused();
        if !unused.is_empty() {
            return Err(format!(
                "{} ({:?}): props {} are not exported",
                spec.id,
                spec.kind,
                unused.join(", ")
            ));
        }
        if !depends_on.is_empty() {
            body.push(Item::Blank);
            body.push(attr(
                "depends_on",
                Hcl::List(depends_on.into_iter().map(raw).collect()),
            ));
        }
        let mut out = vec![block("resource", &[ty, &name], body)];
        out.extend(extra);
        Ok(out)
    }

    /// The route tables a spec waits for without naming them in a prop (Terraform would not
    /// see the dependency otherwise).
    fn route_tables(&self, spec: &ResourceSpec) -> Vec<String> {
        spec.depends_on
            .iter()
            .filter(|d| self.kinds.get(d.as_str()) == Some(&ResourceKind::RouteTable))
            .map(|d| format!("{}.{}", resource_type(ResourceKind::RouteTable), resource_name(d)))
            .collect()
    }

    fn attachment(&self, role: &str) -> Option<String> {
        self.attachments
            .contains(role)
            .then(|| format!("aws_iam_role_policy_attachment.{}", resource_name(role)))
    }
}

/// The ECR lifecycle policy as HCL for `jsonencode`, its image count the variable.
fn lifecycle_policy(v: &Value) -> Hcl {
    match v {
        Value::Object(o) => Hcl::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), if k == "countNumber" { raw("var.ecr_keep_images") } else { lifecycle_policy(v) }))
                .collect(),
        ),
        Value::Array(a) => Hcl::List(a.iter().map(lifecycle_policy).collect()),
        other => Hcl::from_json(other),
    }
}

/// Whether `text` references `name` (`var.ami`, not `var.ami_x`).
fn references(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(i, _)| !text[i + name.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
}

fn header(bp: &Blueprint, file: &str, what: &str) -> String {
    format!("# {file}: {what}\n# Slipway's architecture of project {} as Terraform, written by `slipway export terraform`.\n\n", bp.project)
}

/// The blueprint as main.tf, variables.tf and outputs.tf. The blueprint must be valid, but for
/// an admin CIDR not set yet: `admin_cidr` is then a variable without a default.
pub fn terraform(bp: &Blueprint) -> Result<Vec<ExportFile>, UserError> {
    let admin = if bp.admin_cidr.trim().is_empty() { "203.0.113.7/32" } else { bp.admin_cidr.as_str() };
    Blueprint { admin_cidr: admin.into(), ..bp.clone() }.validate(None)?;
    let (mut vars, probe) = parameters(bp);
    let specs = probe.resources();
    // Without a repository, the image count is no one's parameter.
    if !specs.iter().any(|s| s.kind == ResourceKind::EcrRepository) {
        vars.retain(|v| v.name != "ecr_keep_images");
    }
    let real = bp.resources();
    if specs.iter().map(|s| &s.id).ne(real.iter().map(|s| &s.id)) {
        return Err(UserError::new(
            "The Terraform export failed",
            "the blueprint's resources depend on its values in a way the export cannot follow",
            "Report this as a bug",
        ));
    }
    let gen = Gen {
        kinds: specs.iter().map(|s| (s.id.as_str(), s.kind)).collect(),
        attachments: specs
            .iter()
            .filter(|s| {
                s.kind == ResourceKind::IamRole
                    && s.props["managedPolicies"]
                        .as_array()
                        .is_some_and(|a| !a.is_empty())
            })
            .map(|s| s.id.clone())
            .collect(),
    };

    // main.tf
    let mut main = header(bp, "main.tf", "the provider and one resource per blueprint resource, with the names and tags `slipway apply` gives them.");
    main.push_str("# The tags slipway:project and slipway:resource are how Slipway finds what it made: keep them,\n# and `slipway destroy` can still remove everything of the project.\n\n");
    main.push_str(
        &block(
            "terraform",
            &[],
            vec![
                attr("required_version", s(">= 1.3")),
                Item::Blank,
                Item::Block(block(
                    "required_providers",
                    &[],
                    vec![attr(
                        "aws",
                        Hcl::Object(vec![
                            ("source".into(), s("hashicorp/aws")),
                            ("version".into(), s("~> 5.0")),
                        ]),
                    )],
                )),
            ],
        )
        .render(0),
    );
    main.push('\n');
    main.push_str(
        &block(
            "provider",
            &["aws"],
            vec![attr("region", raw("var.region"))],
        )
        .render(0),
    );
    if specs.iter().any(|s| s.kind == ResourceKind::Instance) {
        let param = AMAZON_LINUX_SSM
            .strip_prefix("resolve:ssm:")
            .unwrap_or(AMAZON_LINUX_SSM);
        main.push_str("\n# The latest Amazon Linux 2023 AMI, as Slipway reads it, unless var.ami names one.\n");
        main.push_str(
            &block(
                "data",
                &["aws_ssm_parameter", "ami"],
                vec![attr("name", s(param))],
            )
            .render(0),
        );
        main.push('\n');
        main.push_str(&block("locals", &[], vec![attr("ami", raw("var.ami != \"\" ? var.ami : nonsensitive(data.aws_ssm_parameter.ami.value)"))]).render(0));
    }
    for spec in &specs {
        main.push_str(&format!("\n# {}: {}\n", spec.id, spec.kind.label()));
        let blocks = gen.resource(spec).map_err(|e| {
            UserError::new("The Terraform export failed", e, "Report this as a bug")
        })?;
        for (i, b) in blocks.iter().enumerate() {
            if i > 0 {
                main.push('\n');
            }
            main.push_str(&b.render(0));
        }
    }

    // Variables only the opt-in parts use (the VMs' types, their AMI, the admin address) are
    // left out when those parts are off.
    vars.retain(|v| references(&main, &format!("var.{}", v.name)));

    // variables.tf
    let mut variables = header(
        bp,
        "variables.tf",
        "the blueprint's parameters; the defaults are its current values.",
    );
    let mut var_blocks: Vec<Block> = vars
        .iter()
        .map(|v| {
            let mut body = vec![
                attr("description", s(v.description)),
                attr("type", raw(v.ty)),
            ];
            if let Some(d) = &v.default {
                body.push(attr("default", Hcl::from_json(d)));
            }
            if let Some((cond, msg)) = v.validation {
                body.push(Item::Blank);
                body.push(Item::Block(block(
                    "validation",
                    &[],
                    vec![attr("condition", raw(cond)), attr("error_message", s(msg))],
                )));
            }
            block("variable", &[v.name], body)
        })
        .collect();
    if specs.iter().any(|s| s.kind == ResourceKind::KeyPair) {
        var_blocks.push(block(
            "variable",
            &["ssh_public_key"],
            vec![attr("description", s("The OpenSSH public key of the VMs' key pair (e.g. the contents of ~/.ssh/id_ed25519.pub).")), attr("type", raw("string"))],
        ));
    }
    for spec in specs.iter().filter(|s| s.kind == ResourceKind::DbInstance) {
        var_blocks.push(block(
            "variable",
            &[&password_variable(&spec.id)],
            vec![
                attr("description", s(format!("The master password of the {} database (pass it as TF_VAR_{}; never commit it).", spec.id, password_variable(&spec.id)))),
                attr("type", raw("string")),
                attr("sensitive", raw("true")),
                Item::Blank,
                Item::Block(block("validation", &[], vec![attr("condition", raw(format!("length(var.{}) >= 8", password_variable(&spec.id)))), attr("error_message", s("RDS needs at least 8 characters."))])),
            ],
        ));
    }
    variables.push_str(
        &var_blocks
            .iter()
            .map(|b| b.render(0))
            .collect::<Vec<_>>()
            .join("\n"),
    );

    // outputs.tf
    let mut outputs = header(bp, "outputs.tf", "what you connect to.");
    let mut outs: Vec<Block> = vec![];
    let out = |name: String, value: Hcl, description: String| {
        block(
            "output",
            &[&name],
            vec![attr("description", s(description)), attr("value", value)],
        )
    };
    for spec in &specs {
        let n = resource_name(&spec.id);
        let ty = resource_type(spec.kind);
        match spec.kind {
            ResourceKind::Vpc => outs.push(out(
                format!("{n}_id"),
                raw(format!("{ty}.{n}.id")),
                format!("The VPC's id ({}).", spec.id),
            )),
            ResourceKind::EcrRepository => outs.push(out(
                format!("{n}_url"),
                raw(format!("{ty}.{n}.repository_url")),
                format!("Where images of {} are pushed.", spec.name),
            )),
            ResourceKind::Instance => outs.push(out(
                format!("{n}_public_ip"),
                raw(format!("{ty}.{n}.public_ip")),
                format!("The public address of the {} VM.", spec.id),
            )),
            ResourceKind::DbInstance => {
                outs.push(out(
                    format!("{n}_endpoint"),
                    raw(format!("{ty}.{n}.address")),
                    format!("The host name of the {} database.", spec.id),
                ));
                outs.push(out(
                    format!("{n}_port"),
                    raw(format!("{ty}.{n}.port")),
                    format!("The port of the {} database.", spec.id),
                ));
            }
            ResourceKind::EksCluster => {
                outs.push(out(
                    format!("{n}_cluster_name"),
                    raw(format!("{ty}.{n}.name")),
                    "The EKS cluster's name (`aws eks update-kubeconfig --name ...`).".into(),
                ));
                outs.push(out(
                    format!("{n}_endpoint"),
                    raw(format!("{ty}.{n}.endpoint")),
                    "The EKS API server's URL.".into(),
                ));
                outs.push(out(
                    format!("{n}_certificate_authority"),
                    raw(format!("{ty}.{n}.certificate_authority[0].data")),
                    "The EKS cluster's CA certificate (base64).".into(),
                ));
            }
            _ => {}
        }
    }
    outputs.push_str(
        &outs
            .iter()
            .map(|b| b.render(0))
            .collect::<Vec<_>>()
            .join("\n"),
    );

    Ok(vec![
        ExportFile {
            path: "main.tf".into(),
            content: main,
        },
        ExportFile {
            path: "variables.tf".into(),
            content: variables,
        },
        ExportFile {
            path: "outputs.tf".into(),
            content: outputs,
        },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_template_sequences_and_interpolate_markers() {
        assert_eq!(quote("a\"b\\c\n"), r#""a\"b\\c\n""#);
        assert_eq!(quote("${HOME} %{x}"), r#""$${HOME} %%{x}""#);
        assert_eq!(
            quote(&format!("{}-vpc", mark("var.project"))),
            r#""${var.project}-vpc""#
        );
        assert!(
            matches!(Hcl::from_json(&Value::String(mark("var.x"))), Hcl::Raw(r) if r == "var.x")
        );
        assert_eq!(key("slipway:project"), "\"slipway:project\"");
        assert_eq!(key("Name"), "Name");
    }

    #[test]
    fn every_prop_of_every_resource_is_exported() {
        // `terraform` fails when a renderer leaves a prop out: a new prop in the blueprint must
        // reach the export too.
        let files = terraform(&Blueprint {
            admin_cidr: "203.0.113.7/32".into(),
            node_subnets: crate::provision::NodeSubnets::PrivateNat,
            services: vec!["web".into()],
            ci_vm: true,
            test_vm: true,
            ..Blueprint::default()
        })
        .unwrap();
        assert_eq!(
            files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
            ["main.tf", "variables.tf", "outputs.tf"]
        );
        let main = &files[0].content;
        assert!(
            !main.contains(OPEN) && !main.contains(CLOSE),
            "a marker was left in the output"
        );
    }

    #[test]
    fn an_admin_cidr_not_set_is_a_variable_terraform_asks_for() {
        let files = terraform(&Blueprint { ci_vm: true, ..Blueprint::default() }).unwrap();
        let vars = &files[1].content;
        let admin = &vars[vars.find("variable \"admin_cidr\"").unwrap()..];
        let admin = &admin[..admin.find("\n}\n").unwrap()];
        assert!(!admin.contains("default"), "{admin}");
        assert!(admin.contains("cidrhost(var.admin_cidr, 0)"), "{admin}");
    }

    #[test]
    fn an_invalid_blueprint_is_refused() {
        let e = terraform(&Blueprint {
            node_count: 0,
            admin_cidr: "203.0.113.7/32".into(),
            ..Blueprint::default()
        })
        .unwrap_err();
        assert!(e.why.contains("0 cluster nodes"), "{e}");
    }
}
