//! The exports read back by real parsers: Terraform through an HCL parser (hcl-rs) with every
//! blueprint resource, tag, variable and reference checked, and every parameter evaluated back
//! to the blueprint's value; the GitHub Actions workflow through a YAML parser and against the
//! public workflow schema (vendored: `fixtures/README.md`); the Jenkinsfile through a small
//! parser of Groovy's blocks, strings and comments; and every shell step of both CI files
//! through `bash -n`.

use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};
use hcl::expr::{Expression, ObjectKey, TraversalOperator};
use hcl::template::{Element, Template};
use hcl::{Block, Body};
use serde_json::Value;
use slipway_core::export::ci::{CiInput, CiSecret};
use slipway_core::export::terraform::{password_variable, resource_name, resource_type};
use slipway_core::export::{github_actions, jenkinsfile, terraform, PASSWORD_MARK};
use slipway_core::pipeline::project::{DatabaseSpec, DeploySpec, Project, ServiceSpec, Source};
use slipway_core::provision::model::{ResourceKind, ResourceSpec};
use slipway_core::provision::{Blueprint, NodeSubnets};
use std::collections::{BTreeMap, BTreeSet};

// ----- Terraform ------------------------------------------------------------------------------

struct Tf {
    main: Body,
    variables: Body,
    outputs: Body,
    text: String,
}

fn tf(bp: &Blueprint) -> Tf {
    let files = terraform::terraform(bp).unwrap();
    let get = |n: &str| {
        files
            .iter()
            .find(|f| f.path == n)
            .unwrap_or_else(|| panic!("{n} missing"))
            .content
            .clone()
    };
    let parse = |n: &str| {
        hcl::parse(&get(n)).unwrap_or_else(|e| panic!("{n} is not valid HCL: {e}\n{}", get(n)))
    };
    Tf {
        main: parse("main.tf"),
        variables: parse("variables.tf"),
        outputs: parse("outputs.tf"),
        text: files.iter().map(|f| f.content.as_str()).collect(),
    }
}

fn labels(b: &Block) -> Vec<String> {
    b.labels.iter().map(|l| l.as_str().to_string()).collect()
}

fn blocks<'a>(body: &'a Body, kind: &str) -> Vec<&'a Block> {
    body.blocks()
        .filter(|b| b.identifier.as_str() == kind)
        .collect()
}

fn attr<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes()
        .find(|a| a.key.as_str() == key)
        .map(|a| &a.expr)
}

/// Every reference in an expression, as `root.first` (`var.project`, `aws_vpc.vpc`,
/// `data.aws_ssm_parameter`...), templates included.
fn refs(e: &Expression, out: &mut BTreeSet<String>) {
    match e {
        Expression::Variable(v) => {
            out.insert(v.as_str().to_string());
        }
        Expression::Traversal(t) => {
            match (&t.expr, t.operators.first()) {
                (Expression::Variable(v), Some(TraversalOperator::GetAttr(a))) => {
                    let second = match t.operators.get(1) {
                        Some(TraversalOperator::GetAttr(b)) if v.as_str() == "data" => {
                            format!(".{}", b.as_str())
                        }
                        _ => String::new(),
                    };
                    out.insert(format!("{}.{}{second}", v.as_str(), a.as_str()));
                }
                (other, _) => refs(other, out),
            }
            for op in &t.operators {
                if let TraversalOperator::Index(i) = op {
                    refs(i, out);
                }
            }
        }
        Expression::Array(items) => items.iter().for_each(|i| refs(i, out)),
        Expression::Object(o) => {
            for (k, v) in o.iter() {
                if let ObjectKey::Expression(k) = k {
                    refs(k, out);
                }
                refs(v, out);
            }
        }
        Expression::TemplateExpr(t) => {
            let tpl = Template::from_expr(t).unwrap();
            for el in tpl.elements() {
                if let Element::Interpolation(i) = el {
                    refs(&i.expr, out);
                }
            }
        }
        Expression::FuncCall(f) => f.args.iter().for_each(|a| refs(a, out)),
        Expression::Parenthesis(p) => refs(p, out),
        Expression::Conditional(c) => {
            refs(&c.cond_expr, out);
            refs(&c.true_expr, out);
            refs(&c.false_expr, out);
        }
        Expression::Operation(op) => match op.as_ref() {
            hcl::expr::Operation::Unary(u) => refs(&u.expr, out),
            hcl::expr::Operation::Binary(b) => {
                refs(&b.lhs_expr, out);
                refs(&b.rhs_expr, out);
            }
        },
        Expression::ForExpr(f) => refs(&f.collection_expr, out),
        _ => {}
    }
}

fn body_refs(body: &Body, out: &mut BTreeSet<String>) {
    for a in body.attributes() {
        refs(&a.expr, out);
    }
    // `lifecycle { ignore_changes = [ami] }` names attributes, not variables.
    for b in body
        .blocks()
        .filter(|b| b.identifier.as_str() != "lifecycle")
    {
        body_refs(&b.body, out);
    }
}

/// `var` with the variables' defaults, `local`, `data` as Slipway would resolve them, and the
/// functions the export uses.
fn context(t: &Tf) -> Context<'static> {
    let mut vars = hcl::Map::new();
    for v in blocks(&t.variables, "variable") {
        if let Some(d) = attr(&v.body, "default") {
            vars.insert(labels(v)[0].clone(), d.evaluate(&Context::new()).unwrap());
        }
    }
    let mut ctx = Context::new();
    ctx.declare_var("var", hcl::Value::Object(vars));
    fn identity(args: FuncArgs) -> Result<hcl::Value, String> {
        Ok(args[0].clone())
    }
    ctx.declare_func(
        "nonsensitive",
        FuncDef::builder().param(ParamType::Any).build(identity),
    );
    let data = blocks(&t.main, "data");
    // One data source, the AMI parameter, when a VM is exported; none without.
    assert!(data.len() <= 1, "at most one data source: the AMI parameter");
    let mut d = hcl::Map::new();
    if let Some(data) = data.first() {
        let param = attr(&data.body, "name")
            .unwrap()
            .evaluate(&Context::new())
            .unwrap();
        let param = param.as_str().unwrap();
        // Slipway hands the AMI to EC2 as `resolve:ssm:<parameter>`; here it stands for its value.
        let value = hcl::Value::from(format!("resolve:ssm:{param}"));
        let mut ami = hcl::Map::new();
        ami.insert("value".to_string(), value);
        let mut ssm = hcl::Map::new();
        ssm.insert("ami".to_string(), hcl::Value::Object(ami));
        d.insert("aws_ssm_parameter".to_string(), hcl::Value::Object(ssm));
    }
    ctx.declare_var("data", hcl::Value::Object(d));
    let locals = blocks(&t.main, "locals");
    let mut l = hcl::Map::new();
    for a in locals.iter().flat_map(|b| b.body.attributes()) {
        l.insert(a.key.as_str().to_string(), a.expr.evaluate(&ctx).unwrap());
    }
    ctx.declare_var("local", hcl::Value::Object(l));
    ctx
}

fn eval(ctx: &Context, e: &Expression) -> Value {
    let v = e
        .evaluate(ctx)
        .unwrap_or_else(|err| panic!("{e:?} does not evaluate: {err}"));
    serde_json::to_value(v).unwrap()
}

/// Numbers compare as numbers (HCL evaluates `2 * 2` to 4, JSON may hold 4.0).
fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// The Terraform attribute, per kind, holding each prop that carries a blueprint parameter.
fn param_attrs(kind: ResourceKind) -> &'static [(&'static str, &'static str)] {
    match kind {
        ResourceKind::Vpc => &[
            ("cidr_block", "cidr"),
            ("enable_dns_hostnames", "enableDnsHostnames"),
            ("enable_dns_support", "enableDnsSupport"),
        ],
        ResourceKind::Subnet => &[
            ("cidr_block", "cidr"),
            ("availability_zone", "az"),
            ("map_public_ip_on_launch", "public"),
        ],
        ResourceKind::SecurityGroup => &[("description", "description")],
        ResourceKind::Instance => &[
            ("ami", "ami"),
            ("instance_type", "instanceType"),
            ("user_data", "userData"),
            ("associate_public_ip_address", "publicIp"),
        ],
        ResourceKind::DbSubnetGroup => &[("description", "description")],
        ResourceKind::DbInstance => &[
            ("publicly_accessible", "publiclyAccessible"),
            ("engine", "engine"),
            ("engine_version", "engineVersion"),
            ("instance_class", "instanceClass"),
            ("allocated_storage", "allocatedStorage"),
            ("username", "masterUsername"),
            ("db_name", "dbName"),
        ],
        ResourceKind::EksCluster => &[("version", "version")],
        ResourceKind::EksNodegroup => &[],
        _ => &[],
    }
}

fn find_resource<'a>(t: &'a Tf, spec: &ResourceSpec) -> &'a Block {
    blocks(&t.main, "resource")
        .into_iter()
        .find(|b| {
            labels(b)
                == [
                    resource_type(spec.kind).to_string(),
                    resource_name(&spec.id),
                ]
        })
        .unwrap_or_else(|| {
            panic!(
                "no resource {} {} for {}",
                resource_type(spec.kind),
                resource_name(&spec.id),
                spec.id
            )
        })
}

fn check_terraform(bp: &Blueprint) {
    let t = tf(bp);
    let ctx = context(&t);

    // The provider pinned, and its region a variable.
    let tfb = blocks(&t.main, "terraform");
    let rp = blocks(&tfb[0].body, "required_providers");
    let aws = eval(&ctx, attr(&rp[0].body, "aws").unwrap());
    assert_eq!(
        aws,
        serde_json::json!({"source": "hashicorp/aws", "version": "~> 5.0"})
    );
    let provider = blocks(&t.main, "provider");
    assert_eq!(labels(provider[0]), ["aws"]);
    assert_eq!(
        eval(&ctx, attr(&provider[0].body, "region").unwrap()),
        bp.region
    );

    // Every blueprint resource, with Slipway's name and tags, and its parameters evaluating back
    // to the blueprint's values.
    let specs = bp.resources();
    let vms = 2 * (bp.ci_vm as usize + bp.test_vm as usize) + (bp.ci_vm || bp.test_vm) as usize;
    assert_eq!(specs.len(), 17 + vms + bp.services.len() + if bp.node_subnets == NodeSubnets::PrivateNat { 3 } else { 0 });
    for spec in &specs {
        let b = find_resource(&t, spec);
        let tags = eval(
            &ctx,
            attr(&b.body, "tags").unwrap_or_else(|| panic!("{} has no tags", spec.id)),
        );
        let mut want = serde_json::json!({"slipway:project": bp.project, "slipway:resource": spec.id, "Name": spec.name});
        for (k, v) in spec.props["tags"].as_object().into_iter().flatten() {
            want[k] = v.clone();
        }
        assert_eq!(tags, want, "{}", spec.id);
        for (tf_attr, prop) in param_attrs(spec.kind) {
            let e = attr(&b.body, tf_attr).unwrap_or_else(|| panic!("{}: no {tf_attr}", spec.id));
            let got = eval(&ctx, e);
            assert!(
                same(&got, &spec.props[*prop]),
                "{}.{tf_attr} = {got}, the blueprint says {}",
                spec.id,
                spec.props[*prop]
            );
        }
        let name_attr = match spec.kind {
            ResourceKind::SecurityGroup
            | ResourceKind::DbSubnetGroup
            | ResourceKind::IamRole
            | ResourceKind::EksCluster => Some("name"),
            ResourceKind::KeyPair => Some("key_name"),
            ResourceKind::DbInstance => Some("identifier"),
            ResourceKind::EksNodegroup => Some("node_group_name"),
            ResourceKind::LaunchTemplate | ResourceKind::EcrRepository => Some("name"),
            _ => None,
        };
        if let Some(n) = name_attr {
            assert_eq!(
                eval(&ctx, attr(&b.body, n).unwrap()),
                spec.name,
                "{}.{n}",
                spec.id
            );
        }
        match spec.kind {
            ResourceKind::SecurityGroup => {
                let ingress = blocks(&b.body, "ingress");
                let rules = spec.props["ingress"].as_array().unwrap();
                assert_eq!(ingress.len(), rules.len(), "{}", spec.id);
                for (blk, rule) in ingress.iter().zip(rules) {
                    assert_eq!(
                        eval(&ctx, attr(&blk.body, "cidr_blocks").unwrap()),
                        serde_json::json!([rule["cidr"]]),
                        "{}",
                        spec.id
                    );
                    assert_eq!(
                        eval(&ctx, attr(&blk.body, "from_port").unwrap()),
                        rule["fromPort"]
                    );
                    assert_eq!(
                        eval(&ctx, attr(&blk.body, "protocol").unwrap()),
                        rule["protocol"]
                    );
                }
            }
            ResourceKind::EksNodegroup => {
                let sc = &blocks(&b.body, "scaling_config")[0].body;
                for (a, p) in [
                    ("desired_size", "desiredSize"),
                    ("min_size", "minSize"),
                    ("max_size", "maxSize"),
                ] {
                    assert!(
                        same(&eval(&ctx, attr(sc, a).unwrap()), &spec.props[p]),
                        "{a}"
                    );
                }
                assert_eq!(
                    eval(&ctx, attr(&b.body, "instance_types").unwrap()),
                    serde_json::json!([spec.props["instanceType"]])
                );
            }
            ResourceKind::IamRole => {
                let policy = attr(&b.body, "assume_role_policy").unwrap();
                let Expression::FuncCall(f) = policy else {
                    panic!("assume_role_policy is not jsonencode(...)")
                };
                assert_eq!(f.name.name.as_str(), "jsonencode");
                let doc = eval(&ctx, &f.args[0]);
                assert_eq!(
                    doc["Statement"][0]["Principal"]["Service"],
                    spec.props["service"]
                );
                // The managed policies are attached.
                let att = blocks(&t.main, "resource")
                    .into_iter()
                    .find(|x| {
                        labels(x)
                            == [
                                "aws_iam_role_policy_attachment".to_string(),
                                resource_name(&spec.id),
                            ]
                    })
                    .unwrap();
                let Expression::FuncCall(set) = attr(&att.body, "for_each").unwrap() else {
                    panic!("for_each is not toset(...)")
                };
                assert_eq!(eval(&ctx, &set.args[0]), spec.props["managedPolicies"]);
            }
            ResourceKind::Instance | ResourceKind::LaunchTemplate => {
                // IMDSv2: the metadata options as the blueprint gives them.
                let m = &blocks(&b.body, "metadata_options")[0].body;
                for (a, p) in [("http_tokens", "httpTokens"), ("http_put_response_hop_limit", "httpPutResponseHopLimit"), ("http_endpoint", "httpEndpoint")] {
                    assert!(same(&eval(&ctx, attr(m, a).unwrap()), &spec.props["metadataOptions"][p]), "{}.{a}", spec.id);
                }
                assert_eq!(eval(&ctx, attr(m, "http_tokens").unwrap()), "required");
            }
            ResourceKind::EcrRepository => {
                let scan = &blocks(&b.body, "image_scanning_configuration")[0].body;
                assert_eq!(eval(&ctx, attr(scan, "scan_on_push").unwrap()), spec.props["scanOnPush"]);
                assert_eq!(eval(&ctx, attr(&b.body, "force_delete").unwrap()), true, "destroy removes the images too");
                let lp = blocks(&t.main, "resource")
                    .into_iter()
                    .find(|x| labels(x) == ["aws_ecr_lifecycle_policy".to_string(), resource_name(&spec.id)])
                    .unwrap_or_else(|| panic!("{}: no lifecycle policy", spec.id));
                let Expression::FuncCall(f) = attr(&lp.body, "policy").unwrap() else { panic!("policy is not jsonencode(...)") };
                assert_eq!(f.name.name.as_str(), "jsonencode");
                // The document evaluates to the blueprint's, its image count from the variable.
                let doc = eval(&ctx, &f.args[0]);
                assert!(same(&doc["rules"][0]["selection"]["countNumber"], &spec.props["lifecyclePolicy"]["rules"][0]["selection"]["countNumber"]));
                let mut norm = doc.clone();
                norm["rules"][0]["selection"]["countNumber"] = spec.props["lifecyclePolicy"]["rules"][0]["selection"]["countNumber"].clone();
                assert_eq!(norm, spec.props["lifecyclePolicy"], "{}", spec.id);
                let mut r = BTreeSet::new();
                refs(&f.args[0], &mut r);
                assert!(r.contains("var.ecr_keep_images"), "{r:?}");
            }
            ResourceKind::NatGateway => {
                let mut r = BTreeSet::new();
                body_refs(&b.body, &mut r);
                assert!(r.contains("aws_eip.eip_nat") && r.contains("aws_subnet.subnet_public_a"), "{r:?}");
            }
            ResourceKind::RouteTable => {
                let route = &blocks(&b.body, "route")[0].body;
                let (target, prop) = if spec.props["natGateway"].is_string() { ("nat_gateway_id", "natGateway") } else { ("gateway_id", "internetGateway") };
                let mut r = BTreeSet::new();
                refs(attr(route, target).unwrap_or_else(|| panic!("{}: no {target}", spec.id)), &mut r);
                let dep = specs.iter().find(|x| x.id == spec.props[prop].as_str().unwrap()).unwrap();
                assert_eq!(r, BTreeSet::from([format!("{}.{}", resource_type(dep.kind), resource_name(&dep.id))]));
                for s in spec.props["subnets"].as_array().unwrap() {
                    let name = format!(
                        "{}_{}",
                        resource_name(&spec.id),
                        resource_name(s.as_str().unwrap())
                    );
                    assert!(
                        blocks(&t.main, "resource").iter().any(|x| labels(x)
                            == ["aws_route_table_association".to_string(), name.clone()]),
                        "{name}"
                    );
                }
            }
            _ => {}
        }
    }

    // References: every var declared (and every variable used), every resource and data source
    // referenced exists, and the dependencies of the blueprint are references or depends_on.
    let declared_vars: BTreeSet<String> = blocks(&t.variables, "variable")
        .iter()
        .map(|v| format!("var.{}", labels(v)[0]))
        .collect();
    let resources: BTreeSet<String> = blocks(&t.main, "resource")
        .iter()
        .map(|b| labels(b).join("."))
        .collect();
    let data: BTreeSet<String> = blocks(&t.main, "data")
        .iter()
        .map(|b| format!("data.{}", labels(b).join(".")))
        .collect();
    let locals: BTreeSet<String> = blocks(&t.main, "locals")
        .iter()
        .flat_map(|b| {
            b.body
                .attributes()
                .map(|a| format!("local.{}", a.key.as_str()))
        })
        .collect();
    let mut used = BTreeSet::new();
    body_refs(&t.main, &mut used);
    body_refs(&t.outputs, &mut used);
    for r in &used {
        let ok = match r.split('.').next().unwrap() {
            "var" => declared_vars.contains(r),
            "local" => locals.contains(r),
            "data" => data.iter().any(|d| d.starts_with(r.as_str())),
            "each" => r == "each.value",
            root if root.starts_with("aws_") => resources.contains(r),
            _ => false,
        };
        assert!(ok, "{r} is referenced but not declared");
    }
    for v in &declared_vars {
        assert!(used.contains(v), "{v} is declared but never used");
    }
    for spec in &specs {
        let b = find_resource(&t, spec);
        let mut mine = BTreeSet::new();
        body_refs(&b.body, &mut mine);
        for d in &spec.depends_on {
            let dep = specs.iter().find(|s| &s.id == d).unwrap();
            let r = format!("{}.{}", resource_type(dep.kind), resource_name(&dep.id));
            let via_association =
                spec.kind == ResourceKind::RouteTable && dep.kind == ResourceKind::Subnet;
            assert!(
                mine.contains(&r) || via_association,
                "{} depends on {d}, but does not reference {r}",
                spec.id
            );
        }
    }

    // Outputs.
    let outputs: BTreeMap<String, &Block> = blocks(&t.outputs, "output")
        .into_iter()
        .map(|o| (labels(o)[0].clone(), o))
        .collect();
    for o in [
        "vpc_id",
        "eks_cluster_name",
        "eks_endpoint",
        "db_test_endpoint",
        "db_live_endpoint",
    ]
    .into_iter()
    .map(str::to_string)
    // The VMs' addresses when they are turned on (and not otherwise).
    .chain(bp.ci_vm.then(|| "vm_ci_public_ip".to_string()))
    .chain(bp.test_vm.then(|| "vm_test_public_ip".to_string()))
    .chain(bp.services.iter().map(|s| format!("ecr_{}_url", s.replace(['-', '.'], "_"))))
    {
        let o = o.as_str();
        let b = outputs
            .get(o)
            .unwrap_or_else(|| panic!("output {o} missing: {:?}", outputs.keys()));
        assert!(
            attr(&b.body, "value").is_some() && attr(&b.body, "description").is_some(),
            "{o}"
        );
    }

    assert_eq!(outputs.contains_key("vm_ci_public_ip"), bp.ci_vm);
    assert_eq!(outputs.contains_key("vm_test_public_ip"), bp.test_vm);

    // No secret: the passwords are sensitive variables without a default; the SSH key has none.
    for spec in specs.iter().filter(|s| s.kind == ResourceKind::DbInstance) {
        let name = password_variable(&spec.id);
        let v = blocks(&t.variables, "variable")
            .into_iter()
            .find(|v| labels(v)[0] == name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(
            eval(&ctx, attr(&v.body, "sensitive").unwrap()),
            true,
            "{name}"
        );
        assert!(attr(&v.body, "default").is_none(), "{name} has a default");
        let mut r = BTreeSet::new();
        refs(
            attr(&find_resource(&t, spec).body, "password").unwrap(),
            &mut r,
        );
        assert_eq!(r, BTreeSet::from([format!("var.{name}")]));
    }
    let key = blocks(&t.variables, "variable")
        .into_iter()
        .find(|v| labels(v)[0] == "ssh_public_key");
    // The key pair (and its public key variable) only with a VM.
    assert_eq!(key.is_some(), bp.ci_vm || bp.test_vm);
    if let Some(key) = key {
        assert!(attr(&key.body, "default").is_none());
    }
    for b in blocks(&t.variables, "variable") {
        if let Some(d) = attr(&b.body, "default") {
            let text = serde_json::to_string(&eval(&ctx, d))
                .unwrap()
                .to_lowercase();
            assert!(
                !text.contains("password") && !text.contains("private"),
                "{}: {text}",
                labels(b)[0]
            );
        }
    }
    assert!(
        !t.text.contains("BEGIN") && !t.text.contains("PRIVATE KEY"),
        "no key material"
    );
}

#[test]
fn terraform_parses_with_every_resource_tag_variable_and_reference() {
    check_terraform(&Blueprint { admin_cidr: "198.51.100.4/32".into(), ..Blueprint::default() });
}

#[test]
fn terraform_follows_the_opt_in_vms() {
    let variables = |bp: &Blueprint| -> BTreeSet<String> { blocks(&tf(bp).variables, "variable").iter().map(|v| labels(v)[0].clone()).collect() };
    let main_of = |bp: &Blueprint| terraform::terraform(bp).unwrap()[0].content.clone();
    let off = Blueprint { admin_cidr: "198.51.100.4/32".into(), ..Blueprint::default() };
    // Off (the default): no VM, no key pair, and none of the variables only they use.
    let main = main_of(&off);
    for absent in ["aws_instance", "aws_key_pair", "aws_ssm_parameter", "sg_ci", "sg_test"] {
        assert!(!main.contains(absent), "{absent} exported although no VM is on");
    }
    let vars = variables(&off);
    for absent in ["ci_instance_type", "test_instance_type", "ami", "admin_cidr", "ssh_public_key"] {
        assert!(!vars.contains(absent), "variable {absent} exported although no VM is on");
    }
    check_terraform(&off);
    // The CI VM alone: it, its security group, the key pair, and its variables; not the test VM's.
    let ci = Blueprint { ci_vm: true, ..off.clone() };
    let main = main_of(&ci);
    assert!(main.contains("resource \"aws_instance\" \"vm_ci\"") && main.contains("resource \"aws_security_group\" \"sg_ci\""), "{main}");
    assert!(main.contains("resource \"aws_key_pair\" \"keypair\""));
    assert!(!main.contains("vm_test") && !main.contains("sg_test"));
    let vars = variables(&ci);
    for present in ["ci_instance_type", "ami", "admin_cidr", "ssh_public_key"] {
        assert!(vars.contains(present), "variable {present} missing with the CI VM on");
    }
    assert!(!vars.contains("test_instance_type"));
    check_terraform(&ci);
    check_terraform(&Blueprint { test_vm: true, ..off });
}

#[test]
fn terraform_follows_every_parameter_of_an_edited_blueprint() {
    // Every value differs from the defaults and from the others, so a variable wired to the
    // wrong place evaluates to the wrong value.
    check_terraform(&Blueprint {
        project: "shop".into(),
        region: "eu-west-1".into(),
        azs: vec!["eu-west-1b".into(), "eu-west-1c".into()],
        vpc_cidr: "10.40.0.0/16".into(),
        public_subnets: vec!["10.40.2.0/24".into(), "10.40.3.0/24".into()],
        private_subnets: vec!["10.40.20.0/24".into(), "10.40.21.0/24".into()],
        admin_cidr: "203.0.113.7/32".into(),
        ci_vm: true,
        ci_instance_type: "m5.large".into(),
        test_vm: true,
        test_instance_type: "t3.micro".into(),
        ami: Some("ami-0123456789abcdef0".into()),
        db_instance_class: "db.t3.small".into(),
        db_storage_gb: 50,
        db_engine_version: "8.4".into(),
        node_instance_type: "c5.xlarge".into(),
        node_count: 3,
        kubernetes_version: "1.31".into(),
        node_subnets: NodeSubnets::PrivateNat,
        services: vec!["web".into(), "api_v2".into()],
        ecr_keep_images: 7,
    });
}

// ----- the CI files -----------------------------------------------------------------------------

fn svc(name: &str, port: u16, deps: &[&str], test: &[&str]) -> ServiceSpec {
    ServiceSpec {
        name: name.into(),
        context: name.into(),
        dockerfile: "Dockerfile".into(),
        port: Some(port),
        env: BTreeMap::from([("GREETING".to_string(), "it's $HOME".to_string())]),
        depends_on: deps.iter().map(|s| s.to_string()).collect(),
        test_command: Some(test.iter().map(|s| s.to_string()).collect()),
        tests: true,
        build_args: BTreeMap::from([(
            "PIP_INDEX".to_string(),
            "https://example.org/simple".to_string(),
        )]),
        language: Some("python".into()),
        health_path: Some("/healthz".into()),
        ..Default::default()
    }
}

fn project() -> Project {
    Project {
        id: "sample".into(),
        source: Source::Path { path: "/x".into() },
        subdir: "examples/sample-app".into(),
        git_ref: "HEAD".into(),
        services: vec![
            svc(
                "backend",
                8000,
                &["db"],
                &["pytest", "-q", "--junitxml=/reports/junit.xml"],
            ),
            svc(
                "frontend",
                8080,
                &["backend"],
                &[
                    "sh",
                    "-c",
                    "pytest --junitxml=/reports/junit.xml \"$@\"",
                    "--",
                    "-k",
                    "not slow",
                ],
            ),
        ],
        database: Some(DatabaseSpec {
            name: "db".into(),
            image: "mariadb:10.11".into(),
            schema: Some("db/schema.sql".into()),
            database: "sample".into(),
            user: "sample".into(),
            ..Default::default()
        }),
        manifests: vec![],
        env_vars: vec![],
        deploy: DeploySpec::default(),
        concurrency: 1,
        detected_from: vec![],
        ..Default::default()
    }
}

fn ci(p: &Project) -> CiInput<'_> {
    let data: BTreeMap<String, String> = [
        ("DB_HOST", "db".to_string()),
        ("DB_PORT", "3306".to_string()),
        ("DB_PASSWORD", PASSWORD_MARK.to_string()),
        (
            "DATABASE_URL",
            format!("mysql://sample:{PASSWORD_MARK}@db:3306/sample"),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    CiInput {
        project: p,
        registry: Some("docker.io/team".into()),
        environment: "staging".into(),
        namespace: "sample".into(),
        manifest_images: BTreeMap::from([
            ("backend".to_string(), "sample-backend".to_string()),
            ("frontend".to_string(), "sample-frontend".to_string()),
        ]),
        rollouts: vec![
            "deployment/backend".into(),
            "deployment/frontend".into(),
            "deployment/slipway-proxy".into(),
        ],
        secrets: vec![CiSecret {
            name: "sample-db".into(),
            data,
        }],
    }
}

/// `bash -n`: the script parses as bash.
fn bash_syntax(script: &str, what: &str) {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("s.sh");
    std::fs::write(&f, script).unwrap();
    let o = std::process::Command::new("bash")
        .arg("-n")
        .arg(&f)
        .output()
        .expect("bash");
    assert!(
        o.status.success(),
        "{what} is not valid bash: {}\n{script}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A Groovy block (`head { ... }`) with its statements and nested blocks, as a small parser of
/// the Jenkinsfile's syntax sees it: comments dropped, strings kept whole (braces inside them
/// are text), statements split at newlines outside parentheses and brackets.
#[derive(Debug, Default)]
struct Node {
    head: String,
    statements: Vec<String>,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, head: &str) -> &Node {
        self.children
            .iter()
            .find(|c| c.head == head)
            .unwrap_or_else(|| {
                panic!(
                    "no `{head}` in `{}`: {:?}",
                    self.head,
                    self.children.iter().map(|c| &c.head).collect::<Vec<_>>()
                )
            })
    }
}

fn parse_groovy(src: &str) -> Result<Node, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut stack = vec![Node::default()];
    let mut cur = String::new();
    let mut depth = 0i32; // ( and [
    let mut i = 0;
    let mut line = 1;
    let flush = |cur: &mut String, stack: &mut Vec<Node>| {
        let s = cur.trim().to_string();
        if !s.is_empty() {
            stack.last_mut().unwrap().statements.push(s);
        }
        cur.clear();
    };
    while i < chars.len() {
        let c = chars[i];
        let rest: String = chars[i..chars.len().min(i + 3)].iter().collect();
        if rest.starts_with("//") {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if rest.starts_with("/*") {
            let end = src[src.char_indices().nth(i).unwrap().0..]
                .find("*/")
                .ok_or(format!("line {line}: unterminated comment"))?;
            i += src[src.char_indices().nth(i).unwrap().0..][..end + 2]
                .chars()
                .count();
            continue;
        }
        if c == '\'' || c == '"' {
            let quote = if rest == "'''" || rest == "\"\"\"" {
                rest.clone()
            } else {
                c.to_string()
            };
            let start_line = line;
            cur.push_str(&quote);
            i += quote.chars().count();
            loop {
                if i >= chars.len() {
                    return Err(format!("line {start_line}: unterminated string"));
                }
                let here: String = chars[i..chars.len().min(i + quote.chars().count())]
                    .iter()
                    .collect();
                if chars[i] == '\\' {
                    cur.push(chars[i]);
                    if i + 1 < chars.len() {
                        cur.push(chars[i + 1]);
                    }
                    i += 2;
                    continue;
                }
                if here == quote {
                    cur.push_str(&quote);
                    i += quote.chars().count();
                    break;
                }
                if chars[i] == '\n' {
                    if quote.len() == 1 {
                        return Err(format!("line {line}: newline in a one-line string"));
                    }
                    line += 1;
                }
                cur.push(chars[i]);
                i += 1;
            }
            continue;
        }
        match c {
            '(' | '[' => {
                depth += 1;
                cur.push(c);
            }
            ')' | ']' => {
                depth -= 1;
                if depth < 0 {
                    return Err(format!("line {line}: unbalanced {c}"));
                }
                cur.push(c);
            }
            '{' => {
                stack.push(Node {
                    head: cur.trim().to_string(),
                    ..Default::default()
                });
                cur.clear();
            }
            '}' => {
                flush(&mut cur, &mut stack);
                if stack.len() < 2 {
                    return Err(format!("line {line}: unbalanced }}"));
                }
                let n = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(n);
            }
            '\n' => {
                line += 1;
                if depth == 0 {
                    flush(&mut cur, &mut stack);
                } else {
                    cur.push(' ');
                }
            }
            _ => cur.push(c),
        }
        i += 1;
    }
    flush(&mut cur, &mut stack);
    if stack.len() != 1 || depth != 0 {
        return Err(format!(
            "{} blocks and {depth} parentheses left open",
            stack.len() - 1
        ));
    }
    Ok(stack.pop().unwrap())
}

/// The bash of every `sh '''...'''` statement below a node, unescaped as Groovy does.
fn sh_scripts(n: &Node, out: &mut Vec<String>) {
    for s in &n.statements {
        if let Some(body) = s.strip_prefix("sh '''").and_then(|b| b.strip_suffix("'''")) {
            out.push(body.replace("\\'", "'").replace("\\\\", "\\"));
        }
    }
    for c in &n.children {
        sh_scripts(c, out);
    }
}

#[test]
fn the_groovy_parser_finds_what_is_wrong() {
    assert!(parse_groovy("pipeline {\n stages {\n}\n")
        .unwrap_err()
        .contains("left open"));
    assert!(parse_groovy("a }").unwrap_err().contains("unbalanced"));
    assert!(parse_groovy("sh '''x\n")
        .unwrap_err()
        .contains("unterminated string"));
    let n = parse_groovy("a { b('}') // }\n c { d } }").unwrap();
    assert_eq!(n.children[0].head, "a");
    assert_eq!(n.children[0].statements, ["b('}')"]);
    assert_eq!(n.children[0].children[0].statements, ["d"]);
}

#[test]
fn the_jenkinsfile_has_the_five_stages_and_its_test_gate_is_the_junit_step() {
    let p = project();
    let text = jenkinsfile::jenkinsfile(&ci(&p));
    let root = parse_groovy(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(root.children.len(), 1);
    let pipeline = root.child("pipeline");
    assert!(
        pipeline.statements.contains(&"agent any".to_string()),
        "{:?}",
        pipeline.statements
    );
    let stages = pipeline.child("stages");
    let names: Vec<&str> = stages.children.iter().map(|s| s.head.as_str()).collect();
    assert_eq!(
        names,
        [
            "stage('Checkout')",
            "stage('Build')",
            "stage('Test')",
            "stage('Push')",
            "stage('Deploy')"
        ]
    );

    let env = pipeline.child("environment");
    assert!(
        env.statements
            .contains(&"REGISTRY = 'docker.io/team'".to_string()),
        "{:?}",
        env.statements
    );
    assert!(stages
        .child("stage('Checkout')")
        .child("steps")
        .statements
        .contains(&"checkout scm".to_string()));

    // The gate: junit in the Test stage's post, always, reading the reports; no grep anywhere.
    let test = stages.child("stage('Test')");
    let junit = &test.child("post").child("always").statements;
    assert_eq!(
        junit,
        &["junit testResults: 'reports/**/*.xml', allowEmptyResults: false"]
    );
    assert!(
        !text.contains("grep"),
        "the results are read by junit, not grep"
    );
    for s in ["stage('Push')", "stage('Deploy')"] {
        let when = stages.child(s).child("when");
        assert_eq!(
            when.child("expression").statements,
            ["currentBuild.currentResult == 'SUCCESS'"],
            "{s} runs only while the build is a success"
        );
    }

    // The steps: each a bash script that parses, doing what the stage says.
    let script = |stage: &str| {
        let mut v = vec![];
        sh_scripts(stages.child(stage), &mut v);
        v.join("\n")
    };
    let mut all = vec![];
    sh_scripts(pipeline, &mut all);
    assert!(all.len() >= 5, "{all:?}");
    for s in &all {
        assert!(s.starts_with("#!/usr/bin/env bash\n"), "{s}");
        bash_syntax(s, "an sh step");
    }
    let build = script("stage('Build')");
    assert!(build.contains("docker build --pull -t sample-backend:\"$IMAGE_TAG\" -f examples/sample-app/backend/Dockerfile") && build.contains("--build-arg PIP_INDEX=https://example.org/simple"), "{build}");
    let test_sh = script("stage('Test')");
    assert!(
        test_sh.contains("pytest -q --junitxml=/reports/junit.xml"),
        "{test_sh}"
    );
    assert!(
        test_sh.contains("'pytest --junitxml=/reports/junit.xml \"$@\"' -- -k 'not slow'"),
        "{test_sh}"
    );
    assert!(
        test_sh.contains("mariadb:10.11") && test_sh.contains("examples/sample-app/db/schema.sql"),
        "the MariaDB sidecar with the schema: {test_sh}"
    );
    assert!(
        test_sh.contains("-e 'GREETING=it'\\''s $HOME'"),
        "{test_sh}"
    );
    let push = script("stage('Push')");
    assert!(
        push.contains("docker login")
            && push.contains("docker push \"$REGISTRY/sample-backend:$IMAGE_TAG\""),
        "{push}"
    );
    let deploy = script("stage('Deploy')");
    assert!(
        deploy.contains("kubectl apply --server-side --field-manager slipway -k"),
        "{deploy}"
    );
    assert!(
        deploy.contains("kubectl -n sample rollout status deployment/backend --timeout=300s"),
        "{deploy}"
    );
    assert!(
        deploy.contains("--from-literal=DB_PASSWORD=\"${DB_PASSWORD}\""),
        "{deploy}"
    );
    let creds = &stages.child("stage('Deploy')").child("steps").children[0].head;
    assert!(
        creds.contains("credentialsId: 'slipway-kubeconfig', variable: 'KUBECONFIG'")
            && creds.contains("variable: 'DB_PASSWORD'"),
        "{creds}"
    );
    assert!(!text.contains(PASSWORD_MARK), "no mark left");
}

fn schema() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/github-workflow.schema.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_workflow_is_valid_against_the_public_schema_and_runs_the_same_stages() {
    let p = project();
    let text = github_actions::workflow(&ci(&p));
    let wf: Value =
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("not YAML: {e}\n{text}"));
    let validator = jsonschema::validator_for(&schema()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&wf)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{text}");

    let jobs = wf["jobs"].as_object().unwrap();
    assert_eq!(
        jobs.keys().cloned().collect::<BTreeSet<_>>(),
        BTreeSet::from(["build", "test", "push", "deploy"].map(String::from))
    );
    assert_eq!(wf["jobs"]["test"]["needs"], "build");
    assert_eq!(wf["jobs"]["push"]["needs"], "test");
    assert_eq!(wf["jobs"]["deploy"]["needs"], "push");
    assert_eq!(wf["jobs"]["deploy"]["environment"], "staging");
    let db = &wf["jobs"]["test"]["services"]["db"];
    assert_eq!(db["image"], "mariadb:10.11");
    assert_eq!(db["env"]["MARIADB_DATABASE"], "sample");
    let steps = |job: &str| wf["jobs"][job]["steps"].as_array().unwrap().clone();
    let reporter = steps("test")
        .into_iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("dorny/test-reporter@"))
        })
        .expect("a JUnit reporter");
    assert_eq!(reporter["with"]["path"], "reports/**/*.xml");
    assert_eq!(reporter["with"]["reporter"], "java-junit");
    assert_eq!(reporter["with"]["fail-on-error"], true);
    assert_eq!(reporter["if"], "always()");
    assert_eq!(wf["jobs"]["test"]["permissions"]["checks"], "write");
    let login = steps("push")
        .into_iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("docker/login-action@"))
        })
        .expect("a registry login");
    assert_eq!(login["with"]["registry"], "docker.io");
    assert_eq!(
        login["with"]["password"],
        "${{ secrets.REGISTRY_PASSWORD }}"
    );
    let deploy = steps("deploy")
        .into_iter()
        .find(|s| s["name"] == "Deploy")
        .unwrap();
    assert_eq!(deploy["env"]["DB_PASSWORD"], "${{ secrets.DB_PASSWORD }}");
    assert!(deploy["run"]
        .as_str()
        .unwrap()
        .contains("kubectl apply --server-side --field-manager slipway"));
    for job in ["build", "test", "push", "deploy"] {
        for s in steps(job) {
            if let Some(run) = s["run"].as_str() {
                bash_syntax(run, &format!("{job}: {}", s["name"]));
            }
        }
    }
    let test_run = steps("test")
        .into_iter()
        .find(|s| s["name"] == "Run the tests")
        .unwrap();
    assert_eq!(
        test_run["env"]["TEST_NETWORK"],
        "${{ job.services.db.network }}"
    );
    assert!(
        !text.contains("grep") && !text.contains(PASSWORD_MARK),
        "{text}"
    );

    // The schema does refuse what GitHub refuses (so a pass above means something).
    let mut broken = wf.clone();
    broken["jobs"]["build"]
        .as_object_mut()
        .unwrap()
        .remove("runs-on");
    assert!(!validator.is_valid(&broken), "a job without runs-on passed");
    let mut broken = wf.clone();
    broken["jobs"]["test"]["steps"][0]["uses"] = Value::from(5);
    assert!(
        !validator.is_valid(&broken),
        "a step with a number for uses passed"
    );
}

#[test]
fn a_project_without_database_or_tests_exports_without_them() {
    let mut p = project();
    p.database = None;
    for s in &mut p.services {
        s.tests = false;
        s.depends_on.clear();
    }
    let mut input = ci(&p);
    input.secrets.clear();
    input.registry = None;
    let text = github_actions::workflow(&input);
    let wf: Value = serde_saphyr::from_str(&text).unwrap();
    assert!(
        jsonschema::validator_for(&schema()).unwrap().is_valid(&wf),
        "{text}"
    );
    assert!(wf["jobs"]["test"]["services"].is_null());
    assert!(
        wf["jobs"]["test"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["uses"].as_str().is_none_or(|u| !u.starts_with("dorny/"))),
        "no report to read"
    );
    assert_eq!(
        wf["env"]["REGISTRY"],
        "registry.example.com/REPLACE_WITH_NAMESPACE"
    );
    assert!(wf["jobs"]["deploy"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["env"]["DB_PASSWORD"].is_null()));
    let j = jenkinsfile::jenkinsfile(&input);
    let root = parse_groovy(&j).unwrap();
    let test = root
        .child("pipeline")
        .child("stages")
        .child("stage('Test')");
    assert!(
        test.children.iter().all(|c| c.head != "post"),
        "no junit without tests: {j}"
    );
    assert!(!j.contains("slipway-db-password"));
}

// ----- hostile repository strings ---------------------------------------------------------------

/// Strings a repository (or a careless person) can put where the exports write names, paths,
/// images, values and commands. Each `touch` would leave a file if any shell ran it as code.
const HOSTILE: [&str; 10] = [
    "it's \"quoted\"",
    "$(touch pwned-dollar)",
    "`touch pwned-backtick`",
    "\"; touch pwned-dq; \"",
    "'; touch pwned-sq; '",
    "${{ secrets.KUBECONFIG }}",
    "line1\nline2; touch pwned-newline",
    "${HOME} $$ \\ \\\\ ''' \"\"\"",
    "EOF\ntouch pwned-heredoc\nEOF",
    "x'''\n''' ; touch pwned-groovy //",
];

fn hostile_project(h: &str) -> Project {
    let mut p = project();
    for s in &mut p.services {
        s.env.insert("GREETING".into(), h.into());
        s.build_args.insert("NOTE".into(), h.into());
        s.test_command = Some(vec!["echo".into(), h.into()]);
        s.context = format!("ctx {h}");
        s.dockerfile = format!("Dockerfile {h}");
        s.health_path = Some(format!("/{h}"));
    }
    let db = p.database.as_mut().unwrap();
    db.image = format!("mariadb:{h}");
    db.schema = Some(format!("db/{h}.sql"));
    db.database = h.into();
    db.user = h.into();
    p
}

fn hostile_ci<'a>(p: &'a Project, h: &str) -> CiInput<'a> {
    let mut i = ci(p);
    i.registry = Some(format!("reg.example.com/{h}"));
    i.environment = h.into();
    i.namespace = h.into();
    i.manifest_images = BTreeMap::from([("backend".to_string(), h.to_string()), ("frontend".to_string(), format!("f-{h}"))]);
    i.rollouts = vec![format!("deployment/{h}")];
    i.secrets = vec![CiSecret {
        name: h.into(),
        data: BTreeMap::from([("NOTE".to_string(), h.to_string()), ("DB_PASSWORD".to_string(), PASSWORD_MARK.to_string())]),
    }];
    i
}

/// Runs a CI script with `docker` and `kubectl` replaced by stubs that record every call (one
/// record per call, arguments separated by 0x1f). Returns the calls and the files the script
/// left in its working folder.
struct Ran {
    ok: bool,
    out: String,
    calls: Vec<Vec<String>>,
    /// Every path left in the working folder.
    left: Vec<String>,
    /// The kustomization the deploy wrote, if it ran.
    kustomization: Option<String>,
}

fn run_with_stubs(script: &str, subdir: &str, files: &[String]) -> Ran {
    let d = tempfile::tempdir().unwrap();
    let bin = d.path().join("bin");
    let work = d.path().join("work");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(work.join(subdir).join("slipway")).unwrap();
    std::fs::write(work.join(subdir).join("slipway/k8s.yaml"), "kind: List\n").unwrap();
    for f in files {
        let path = work.join(subdir).join(f);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "create table t (x int);\n").unwrap();
    }
    let tmp = d.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let log = d.path().join("calls");
    let stub = "#!/bin/sh\n{ printf '%s' \"${0##*/}\"; for a in \"$@\"; do printf '\\037%s' \"$a\"; done; printf '\\036'; } >> \"$STUB_LOG\"\ncase \"${0##*/} $1\" in\n  'docker inspect') echo healthy ;;\nesac\nexit 0\n";
    for name in ["docker", "kubectl"] {
        let p = bin.join(name);
        std::fs::write(&p, stub).unwrap();
        std::process::Command::new("chmod").arg("+x").arg(&p).status().unwrap();
    }
    let o = std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(&work)
        .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()))
        .env("STUB_LOG", &log)
        .env("RUN_ID", "ci-7")
        .env("IMAGE_TAG", "0123456789ab")
        .env("REGISTRY", "reg.example.com/team")
        .env("TEST_DB_PASSWORD", "test-pw")
        .env("DB_PASSWORD", "db-pw")
        .env("KUBECONFIG", "/dev/null")
        .env("TEST_NETWORK", "net-1")
        .env("TEST_DB_CONTAINER", "db-1")
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    let calls: Vec<Vec<String>> = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .split('\u{1e}')
        .filter(|r| !r.is_empty())
        .map(|r| r.split('\u{1f}').map(str::to_string).collect())
        .collect();
    let mut left: Vec<String> = vec![];
    fn walk(dir: &std::path::Path, root: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            out.push(e.path().strip_prefix(root).unwrap().display().to_string());
            if e.file_type().unwrap().is_dir() {
                walk(&e.path(), root, out);
            }
        }
    }
    walk(&work, &work, &mut left);
    let mut in_tmp = vec![];
    walk(&tmp, &tmp, &mut in_tmp);
    let kustomization = in_tmp.iter().find(|f| f.ends_with("kustomization.yaml")).map(|f| std::fs::read_to_string(tmp.join(f)).unwrap());
    let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    Ran { ok: o.status.success(), out, calls, left, kustomization }
}

fn pwned(left: &[String]) -> Vec<&String> {
    left.iter().filter(|f| f.split('/').any(|c| c.starts_with("pwned"))).collect()
}

/// The kustomization's first image name, as a YAML parser reads it.
fn kustomized_name(k: &str) -> String {
    let v: Value = serde_saphyr::from_str(k).unwrap_or_else(|e| panic!("the kustomization is not YAML: {e}\n{k}"));
    v["images"][0]["name"].as_str().unwrap().to_string()
}

/// Every `${{ ... }}` expression in a workflow's text (GitHub evaluates them anywhere).
fn expressions(text: &str) -> Vec<String> {
    let mut out = vec![];
    let mut rest = text;
    while let Some(i) = rest.find("${{") {
        let after = &rest[i + 3..];
        // A string literal inside the expression may hold `}}`.
        let mut in_str = false;
        let mut end = None;
        let b = after.as_bytes();
        for j in 0..b.len() {
            match b[j] {
                b'\'' => in_str = !in_str,
                b'}' if !in_str && b.get(j + 1) == Some(&b'}') => {
                    end = Some(j);
                    break;
                }
                _ => {}
            }
        }
        let end = end.unwrap_or_else(|| panic!("an unterminated expression in:\n{text}"));
        out.push(after[..end].trim().to_string());
        rest = &after[end + 2..];
    }
    out
}

/// GitHub's evaluation of the one expression Slipway writes around data: `${{ '${{' }}`.
fn github_eval_literal(s: &str) -> String {
    s.replace("${{ '${{' }}", "${{")
}

#[test]
fn hostile_repository_strings_stay_data_in_every_export() {
    let allowed: BTreeSet<&str> = [
        "github.run_id",
        "github.run_attempt",
        "github.ref",
        "secrets.REGISTRY_USERNAME",
        "secrets.REGISTRY_PASSWORD",
        "secrets.KUBECONFIG",
        "secrets.DB_PASSWORD",
        "job.services.db.network",
        "job.services.db.id",
        "'${{'",
    ]
    .into();
    let benign = project();
    let benign_j = parse_groovy(&jenkinsfile::jenkinsfile(&ci(&benign))).unwrap();
    fn shape(n: &Node, out: &mut Vec<String>) {
        out.push(format!("{} [{}]", n.head.split('(').next().unwrap_or(""), n.statements.len()));
        for c in &n.children {
            shape(c, out);
        }
    }
    let mut benign_shape = vec![];
    shape(&benign_j, &mut benign_shape);
    let validator = jsonschema::validator_for(&schema()).unwrap();
    let mut tried = 0;
    let mut scripts_run = 0;
    for h in HOSTILE {
        let p = hostile_project(h);
        let input = hostile_ci(&p, h);

        // Jenkinsfile: Groovy with the same shape as a harmless project's, every sh step bash
        // that parses, runs without running any of the strings, and passes them on verbatim.
        let j = jenkinsfile::jenkinsfile(&input);
        let root = parse_groovy(&j).unwrap_or_else(|e| panic!("{h:?}: {e}\n{j}"));
        let mut s = vec![];
        shape(&root, &mut s);
        assert_eq!(s, benign_shape, "{h:?} changed the Jenkinsfile's structure:\n{j}");
        let env = &root.child("pipeline").child("environment").statements;
        assert!(env.iter().any(|l| l.starts_with("K8S_NAMESPACE = '")), "{env:?}");
        let mut sh = vec![];
        sh_scripts(&root, &mut sh);
        for script in &sh {
            bash_syntax(script, &format!("{h:?} in a Jenkins sh step"));
        }
        // The build, test, push and deploy steps (not the registry login) with stubs.
        let steps: Vec<&String> = sh.iter().filter(|s| !s.contains("docker login")).collect();
        assert_eq!(steps.len(), 4, "{h:?}");
        let schema = vec![p.database.as_ref().unwrap().schema.clone().unwrap()];
        let mut calls = vec![];
        for script in steps {
            let r = run_with_stubs(script, &p.subdir, &schema);
            assert!(r.ok, "{h:?}: a Jenkins step failed: {}\n{script}", r.out);
            assert!(pwned(&r.left).is_empty(), "{h:?} ran as code: {:?}\n{script}", pwned(&r.left));
            if let Some(k) = &r.kustomization {
                assert_eq!(kustomized_name(k), h, "the manifest's image name, verbatim");
            }
            calls.extend(r.calls);
            scripts_run += 1;
        }
        let has_arg = |calls: &[Vec<String>], want: &str| calls.iter().any(|c| c.iter().any(|a| a == want));
        for want in [format!("NOTE={h}"), format!("GREETING={h}"), h.to_string(), format!("mariadb:{h}"), format!("deployment/{h}"), format!("--from-literal=NOTE={h}")] {
            assert!(has_arg(&calls, &want), "{h:?}: no call got {want:?} verbatim: {calls:?}");
        }

        // GitHub Actions: YAML that the public schema accepts, no expression but Slipway's own,
        // no `${{` in any script, and the same bash behaviour.
        let text = github_actions::workflow(&input);
        let wf: Value = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{h:?}: not YAML: {e}\n{text}"));
        let errors: Vec<String> = validator.iter_errors(&wf).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{h:?}: {errors:?}\n{text}");
        for e in expressions(&text) {
            assert!(allowed.contains(e.as_str()), "{h:?}: an expression from the repository: ${{{{ {e} }}}}\n{text}");
        }
        let mut ran = 0;
        for (job, j) in wf["jobs"].as_object().unwrap() {
            for step in j["steps"].as_array().unwrap() {
                let Some(run) = step["run"].as_str() else { continue };
                assert!(!run.contains("${{"), "{h:?}: `${{{{` reached a run block in {job}:\n{run}");
                bash_syntax(run, &format!("{h:?} in {job}"));
                if ["Build the images", "Run the tests", "Push the images", "Deploy"].contains(&step["name"].as_str().unwrap()) {
                    let r = run_with_stubs(run, &p.subdir, &schema);
                    assert!(r.ok, "{h:?}: {job} failed: {}\n{run}", r.out);
                    assert!(pwned(&r.left).is_empty(), "{h:?} ran as code in {job}: {:?}", pwned(&r.left));
                    if let Some(k) = &r.kustomization {
                        assert_eq!(kustomized_name(k), h);
                    }
                    ran += 1;
                    scripts_run += 1;
                }
            }
        }
        assert_eq!(ran, 4, "{h:?}");
        // Where GitHub evaluates expressions in data, the value it gets is the string itself.
        assert_eq!(github_eval_literal(wf["jobs"]["deploy"]["environment"].as_str().unwrap()), h);
        assert_eq!(github_eval_literal(wf["env"]["K8S_NAMESPACE"].as_str().unwrap()), h);
        assert_eq!(github_eval_literal(wf["jobs"]["test"]["services"]["db"]["image"].as_str().unwrap()), format!("mariadb:{h}"));
        assert_eq!(github_eval_literal(wf["jobs"]["test"]["services"]["db"]["env"]["MARIADB_DATABASE"].as_str().unwrap()), h);
        tried += 1;
    }
    // Terraform: the blueprint refuses what is not a name (checked before any file is written).
    for h in HOSTILE {
        for set in [
            (|b: &mut Blueprint, h: &str| b.ci_instance_type = h.into()) as fn(&mut Blueprint, &str),
            |b, h| b.ami = Some(h.into()),
            |b, h| b.db_engine_version = h.into(),
            |b, h| b.kubernetes_version = h.into(),
            |b, h| b.azs[0] = h.into(),
        ] {
            let mut bp = Blueprint::default();
            set(&mut bp, h);
            match terraform::terraform(&bp) {
                Err(e) => assert!(!e.what.is_empty()),
                Ok(files) => {
                    for f in files {
                        hcl::parse(&f.content).unwrap_or_else(|e| panic!("{h:?}: {e}\n{}", f.content));
                    }
                }
            }
            tried += 1;
        }
    }
    println!("hostile inputs tried: {tried} (each refused or kept as data); CI scripts run with stubs: {scripts_run}; none ran a string as code");
}

#[test]
fn every_action_is_pinned_by_commit_with_its_release_beside_it() {
    let text = github_actions::workflow(&ci(&project()));
    let mut uses = 0;
    for line in text.lines().filter(|l| l.trim_start().starts_with("uses:") || l.contains(" uses: ")) {
        uses += 1;
        let after = line.split("uses:").nth(1).unwrap().trim();
        let (action, comment) = after.split_once(" # ").unwrap_or_else(|| panic!("no release comment: {line}"));
        let sha = action.rsplit_once('@').map(|(_, s)| s).unwrap_or("");
        assert!(sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()), "not pinned by a commit: {line}");
        assert!(comment.starts_with('v'), "{line}");
    }
    assert!(uses >= 5, "{text}");
    assert!(!text.contains("azure/setup-kubectl"), "kubectl comes from dl.k8s.io, checked by its SHA-256");
    let wf: Value = serde_saphyr::from_str(&text).unwrap();
    let kubectl = wf["jobs"]["deploy"]["steps"].as_array().unwrap().iter().find(|s| s["name"] == "Set up kubectl").unwrap();
    assert!(kubectl["run"].as_str().unwrap().contains("sha256sum -c -"), "{kubectl}");
}
