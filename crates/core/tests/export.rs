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
use slipway_core::provision::Blueprint;
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
    assert_eq!(data.len(), 1, "one data source: the AMI parameter");
    let param = attr(&data[0].body, "name")
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
    let mut d = hcl::Map::new();
    d.insert("aws_ssm_parameter".to_string(), hcl::Value::Object(ssm));
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
        ],
        ResourceKind::DbSubnetGroup => &[("description", "description")],
        ResourceKind::DbInstance => &[
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
    assert_eq!(specs.len(), 21);
    for spec in &specs {
        let b = find_resource(&t, spec);
        let tags = eval(
            &ctx,
            attr(&b.body, "tags").unwrap_or_else(|| panic!("{} has no tags", spec.id)),
        );
        assert_eq!(
            tags,
            serde_json::json!({"slipway:project": bp.project, "slipway:resource": spec.id, "Name": spec.name}),
            "{}",
            spec.id
        );
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
            ResourceKind::RouteTable => {
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
        "vm_ci_public_ip",
        "vm_test_public_ip",
    ] {
        let b = outputs
            .get(o)
            .unwrap_or_else(|| panic!("output {o} missing: {:?}", outputs.keys()));
        assert!(
            attr(&b.body, "value").is_some() && attr(&b.body, "description").is_some(),
            "{o}"
        );
    }

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
        .find(|v| labels(v)[0] == "ssh_public_key")
        .unwrap();
    assert!(attr(&key.body, "default").is_none());
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
    check_terraform(&Blueprint::default());
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
        ci_instance_type: "m5.large".into(),
        test_instance_type: "t3.micro".into(),
        ami: Some("ami-0123456789abcdef0".into()),
        db_instance_class: "db.t3.small".into(),
        db_storage_gb: 50,
        db_engine_version: "8.4".into(),
        node_instance_type: "c5.xlarge".into(),
        node_count: 3,
        kubernetes_version: "1.31".into(),
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
