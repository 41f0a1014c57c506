//! What the Jenkinsfile and the GitHub Actions workflow share: the facts of the pipeline they
//! run ([`CiInput`]) and the shell (bash) of each stage, the same work a Slipway run does with
//! the same names and labels: images `<project>-<service>:<12-char commit>`, every test
//! container and network labelled `slipway.run=<run id>` and `slipway.stage=test` and removed
//! when the stage ends, each service's test command run in its own image next to the database
//! (loaded with the schema) and the services it calls, the JUnit report copied from
//! `/reports/junit.xml` to `reports/<service>/junit.xml` for the CI's own report reader, which
//! is the test gate; then push to the registry and a server-side apply of the Kubernetes export
//! with this build's images, waiting for every rollout.
//!
//! The scripts read these variables, which the CI files set: `RUN_ID` (unique per CI run),
//! `IMAGE_TAG`, `REGISTRY` (`host/namespace`), `TEST_DB_PASSWORD` (a throwaway password of the
//! test database) and, for Deploy, `KUBECONFIG` and `DB_PASSWORD` (from CI credentials).

use std::collections::BTreeMap;

use super::{shell_word, PASSWORD_MARK};
use crate::deploy::FIELD_MANAGER;
use crate::pipeline::project::{DatabaseSpec, Project, ServiceSpec};
use crate::pipeline::runner::{database_container_env, service_env};

/// Where the CI files expect the Kubernetes export in the repository (relative to the
/// project's folder): `slipway export k8s -o slipway/k8s.yaml`, then commit it.
pub const K8S_EXPORT_PATH: &str = "slipway/k8s.yaml";
/// How long the deploy waits for each rollout.
pub const ROLLOUT_TIMEOUT_SECS: u32 = 300;

/// A Secret the deploy creates from the CI's credentials, its values with [`PASSWORD_MARK`]
/// where the database password goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiSecret {
    pub name: String,
    pub data: BTreeMap<String, String>,
}

/// Everything the CI exports need besides the project.
#[derive(Debug, Clone)]
pub struct CiInput<'a> {
    pub project: &'a Project,
    /// Where images are pushed: `host[/namespace]` (`docker.io/team`). None: a placeholder the
    /// person fills in.
    pub registry: Option<String>,
    /// The environment deployed to, and its namespace.
    pub environment: String,
    pub namespace: String,
    /// The image name (without tag) each service has in the Kubernetes export, which the deploy
    /// replaces with this build's image.
    pub manifest_images: BTreeMap<String, String>,
    /// The workloads whose rollouts the deploy waits for, as `deployment/backend`.
    pub rollouts: Vec<String>,
    /// The Secrets the deploy creates (the database connection, the sandbox database's server).
    pub secrets: Vec<CiSecret>,
}

impl CiInput<'_> {
    /// The registry with a placeholder when none is connected.
    pub fn registry(&self) -> String {
        self.registry
            .clone()
            .unwrap_or_else(|| "registry.example.com/REPLACE_WITH_NAMESPACE".into())
    }

    /// The services whose tests run (those with `tests = false` are left out).
    pub fn testers(&self) -> Vec<&ServiceSpec> {
        self.project.services.iter().filter(|s| s.tests).collect()
    }

    /// The database when a tester (or a service it calls) needs it.
    pub fn test_database(&self) -> Option<&DatabaseSpec> {
        let p = self.project;
        let db = p.database.as_ref()?;
        let needs = |s: &ServiceSpec| {
            s.depends_on.contains(&db.name)
                || dependencies(p, s)
                    .iter()
                    .any(|d| d.depends_on.contains(&db.name))
        };
        self.testers().into_iter().any(needs).then_some(db)
    }

    /// Does the deploy need the database password?
    pub fn deploy_needs_password(&self) -> bool {
        self.secrets
            .iter()
            .any(|s| s.data.values().any(|v| v.contains(PASSWORD_MARK)))
    }
}

/// Paths in the scripts are relative to the repository root.
fn in_project(p: &Project, path: &str) -> String {
    let sub = p.subdir.trim_matches('/');
    let path = path.trim_start_matches("./");
    match (sub.is_empty(), path == "." || path.is_empty()) {
        (true, _) => {
            if path.is_empty() {
                ".".into()
            } else {
                path.to_string()
            }
        }
        (false, true) => sub.to_string(),
        (false, false) => format!("{sub}/{path}"),
    }
}

/// The services (transitively) a service calls, in start order.
pub fn dependencies<'a>(p: &'a Project, svc: &ServiceSpec) -> Vec<&'a ServiceSpec> {
    fn visit<'a>(
        p: &'a Project,
        name: &str,
        seen: &mut Vec<String>,
        out: &mut Vec<&'a ServiceSpec>,
    ) {
        let Some(s) = p.service(name) else { return };
        if seen.iter().any(|x| x == name) {
            return;
        }
        seen.push(name.to_string());
        for d in &s.depends_on {
            visit(p, d, seen, out);
        }
        out.push(s);
    }
    let (mut seen, mut out) = (vec![], vec![]);
    for d in &svc.depends_on {
        visit(p, d, &mut seen, &mut out);
    }
    out.retain(|s| s.name != svc.name);
    out
}

/// The local image of a service in the CI: `<project>-<service>:$IMAGE_TAG`.
fn local_image(p: &Project, svc: &str) -> String {
    format!("{}\"$IMAGE_TAG\"", shell_word(&format!("{}-{svc}:", p.id), ""))
}

/// `echo` of a text with repository strings in it, as one quoted word.
fn echo(text: &str) -> String {
    format!("echo {}\n", shell_word(text, ""))
}

/// A repository string inside a double-quoted word: as is when it is plain, else the double
/// quote is closed around its single-quoted form.
fn dq(value: &str) -> String {
    let w = shell_word(value, "");
    if w == value {
        w
    } else {
        format!("\"{w}\"")
    }
}

/// A run's container: `"slipway-$run-<name>"`, the name quoted.
fn container(name: &str) -> String {
    format!("\"slipway-$run-{}\"", dq(name))
}

const PRELUDE: &str =
    "set -euo pipefail\nrun=$(printf '%s' \"$RUN_ID\" | tr -c 'A-Za-z0-9_.-' '-')\n";

/// Build: one image per service, from its context and Dockerfile, with its build args.
pub fn build_script(input: &CiInput) -> String {
    let p = input.project;
    let mut out = PRELUDE.to_string();
    for s in &p.services {
        let ctx = in_project(p, &s.context);
        let mut cmd = format!(
            "docker build --pull -t {} -f {}",
            local_image(p, &s.name),
            shell_word(&format!("{ctx}/{}", s.dockerfile), "")
        );
        cmd.push_str(&format!(
            " --label slipway.image.project={} --label \"slipway.image.commit=$IMAGE_TAG\"",
            shell_word(&p.id, "")
        ));
        for (k, v) in &s.build_args {
            cmd.push_str(&format!(
                " --build-arg {}",
                shell_word(&format!("{k}={v}"), "")
            ));
        }
        cmd.push_str(&format!(" {}", shell_word(&ctx, "")));
        out.push_str(&format!("{}{cmd}\n", echo(&format!("Building {}", s.name))));
    }
    out
}

/// The images the build made (for `docker save` between CI jobs).
pub fn image_list(input: &CiInput) -> String {
    input
        .project
        .services
        .iter()
        .map(|s| local_image(input.project, &s.name))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `-e KEY=VALUE` options, the test database's password from `$TEST_DB_PASSWORD`.
fn env_opts(env: &BTreeMap<String, String>) -> String {
    env.iter()
        .map(|(k, v)| {
            format!(
                " -e {}",
                shell_word(&format!("{k}={v}"), "TEST_DB_PASSWORD")
            )
        })
        .collect()
}

/// How the test database is provided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestDatabase {
    /// The script starts it (Jenkins): a container on the test network, schema copied in
    /// before it starts.
    Sidecar,
    /// The CI started it (a GitHub Actions service container): the network is
    /// `$TEST_NETWORK`, the container `$TEST_DB_CONTAINER`; the script loads the schema.
    Service,
}

/// The health check of the database container (the official MariaDB and MySQL images).
pub const DB_HEALTH_CMD: &str = "mariadb-admin ping -h 127.0.0.1 --protocol=tcp --silent || mysqladmin ping -h 127.0.0.1 --protocol=tcp --silent";

/// The database container's environment, the password from `$TEST_DB_PASSWORD`.
pub fn test_database_env(db: &DatabaseSpec) -> BTreeMap<String, String> {
    database_container_env(db, PASSWORD_MARK, PASSWORD_MARK)
}

/// Test: the database and the services the tests call, then every service's test command in
/// its image. Each report is copied to `reports/<service>/junit.xml` (coverage to
/// `coverage/<service>/`); the script fails when a test command exits non-zero or left no
/// report, and the CI's JUnit reader fails the stage on a failing case. Everything it started is
/// removed when it ends.
pub fn test_script(input: &CiInput, db_mode: TestDatabase) -> String {
    let p = input.project;
    let testers = input.testers();
    let mut out = PRELUDE.to_string();
    if testers.is_empty() {
        out.push_str("echo 'No service has tests (tests = false for every one)'\n");
        return out;
    }
    if let Some(s) = testers.iter().find(|s| s.test_command.is_none()) {
        out.push_str(&format!(
            "echo {} >&2\nexit 1\n",
            shell_word(&format!("{} has no test command: set `test = \"...\"` for it in slipway.toml, or `tests = false` to skip it knowingly", s.name), "")
        ));
        return out;
    }
    let labels = format!(
        "--label slipway.project={} --label \"slipway.run=$run\" --label slipway.stage=test",
        shell_word(&p.id, "")
    );
    out.push_str("rm -rf reports coverage && mkdir -p reports coverage\n");
    out.push_str("cleanup() {\n  docker ps -aq --filter \"label=slipway.run=$run\" --filter label=slipway.stage=test | xargs -r docker rm -f >/dev/null\n");
    let db = input.test_database();
    let own_network = !(db.is_some() && db_mode == TestDatabase::Service);
    if own_network {
        out.push_str("  docker network rm \"$net\" >/dev/null 2>&1 || true\n}\n");
        out.push_str(&format!("net=\"slipway-$run-test\"\ntrap cleanup EXIT\ndocker network create {labels} \"$net\" >/dev/null\n"));
    } else {
        out.push_str("}\nnet=\"$TEST_NETWORK\"\ntrap cleanup EXIT\n");
    }
    out.push_str("wait_healthy() {\n  for _ in $(seq 1 120); do\n    [ \"$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' \"$1\")\" = healthy ] && return 0\n    sleep 1\n  done\n  echo \"$1 did not become healthy:\" >&2; docker logs --tail 20 \"$1\" >&2; return 1\n}\n");
    out.push_str("wait_http() {\n  for _ in $(seq 1 120); do\n    docker run --rm --network \"$net\" busybox:stable wget -q -O /dev/null \"$1\" 2>/dev/null && return 0\n    sleep 1\n  done\n  echo \"$1 did not answer\" >&2; return 1\n}\n");
    if let Some(db) = db {
        let schema = db.schema.as_ref().map(|s| in_project(p, s));
        match db_mode {
            TestDatabase::Sidecar => {
                out.push_str(&echo(&format!(
                    "Starting the test database {} ({})",
                    db.name, db.image
                )));
                out.push_str(&format!(
                    "docker create --name {container} --network \"$net\" --network-alias {name} {labels}{env} --health-cmd {health} --health-interval 1s --health-retries 240 {image} >/dev/null\n",
                    container = container(&db.name),
                    name = shell_word(&db.name, ""),
                    env = env_opts(&test_database_env(db)),
                    health = shell_word(DB_HEALTH_CMD, ""),
                    image = shell_word(&db.image, ""),
                ));
                if let Some(schema) = &schema {
                    out.push_str(&format!(
                        "docker cp {} {}\n",
                        shell_word(schema, ""),
                        container(&format!("{}:/docker-entrypoint-initdb.d/schema.sql", db.name))
                    ));
                }
                out.push_str(&format!("docker start {0} >/dev/null\nwait_healthy {0}\n", container(&db.name)));
            }
            TestDatabase::Service => {
                if let Some(schema) = &schema {
                    out.push_str(&echo(&format!(
                        "Loading {schema} into the test database {}",
                        db.name
                    )));
                    out.push_str(&format!(
                        "docker exec -i \"$TEST_DB_CONTAINER\" sh -c 'c=mariadb; command -v mariadb >/dev/null || c=mysql; MYSQL_PWD=\"$MARIADB_ROOT_PASSWORD\" exec $c -uroot \"$MARIADB_DATABASE\"' < {}\n",
                        shell_word(schema, "")
                    ));
                }
            }
        }
    }
    let db_host = p.database.as_ref().map(|d| d.name.as_str()).unwrap_or("db");
    let mut needed: Vec<&ServiceSpec> = vec![];
    for t in &testers {
        for d in dependencies(p, t) {
            if !needed.iter().any(|x| x.name == d.name) {
                needed.push(d);
            }
        }
    }
    for dep in needed {
        out.push_str(&echo(&format!(
            "Starting {} for the tests that call it",
            dep.name
        )));
        out.push_str(&format!(
            "docker run -d --name {container} --network \"$net\" --network-alias {name} {labels}{env} {image} >/dev/null\n",
            container = container(&dep.name),
            name = shell_word(&dep.name, ""),
            env = env_opts(&service_env(p, dep, db_host, PASSWORD_MARK)),
            image = local_image(p, &dep.name),
        ));
        if let Some(port) = dep.port {
            out.push_str(&format!(
                "wait_http {}\n",
                shell_word(
                    &format!(
                        "http://{}:{port}{}",
                        dep.name,
                        dep.health_path.as_deref().unwrap_or("/")
                    ),
                    ""
                )
            ));
        }
    }
    out.push_str("failed=0\n");
    for t in &testers {
        let cmd: Vec<String> = t
            .test_command
            .clone()
            .unwrap_or_default()
            .iter()
            .map(|a| shell_word(a, ""))
            .collect();
        let c = container(&format!("test-{}", t.name));
        out.push_str(&format!(
            "echo {}\n",
            shell_word(
                &format!(
                    "Testing {}: {}",
                    t.name,
                    t.test_command.clone().unwrap_or_default().join(" ")
                ),
                ""
            )
        ));
        // The test command replaces the image's ENTRYPOINT (an `ENTRYPOINT ["python3",
        // "app.py"]` would otherwise start the app with the command as its arguments).
        let (entry, args) = cmd.split_first().map(|(e, a)| (e.clone(), a.to_vec())).unwrap_or_default();
        out.push_str(&format!(
            "code=0\ndocker run --name {c} --network \"$net\" --entrypoint {entry} {labels}{env} {image} {args} || code=$?\n",
            env = env_opts(&service_env(p, t, db_host, PASSWORD_MARK)),
            image = local_image(p, &t.name),
            args = args.join(" "),
        ));
        let (reports, coverage) = (shell_word(&format!("reports/{}", t.name), ""), shell_word(&format!("coverage/{}", t.name), ""));
        out.push_str(&format!("mkdir -p {reports} {coverage}\n"));
        out.push_str(&format!(
            "if ! docker cp {c}:/reports/junit.xml {reports}/junit.xml 2>/dev/null; then\n  echo {} >&2\n  failed=1\nfi\n",
            shell_word(&format!("{}: the test command wrote no /reports/junit.xml (pytest: --junitxml=/reports/junit.xml); a run without a report never passes", t.name), "")
        ));
        out.push_str(&format!(
            "docker cp {c}:/reports/coverage.xml {coverage}/coverage.xml 2>/dev/null || true\n"
        ));
        out.push_str(&format!("if [ \"$code\" -ne 0 ]; then echo {}\": the test command exited with code $code\" >&2; failed=1; fi\n", shell_word(&t.name, "")));
    }
    out.push_str("exit \"$failed\"\n");
    out
}

/// Push: every image to `$REGISTRY/<project>-<service>:$IMAGE_TAG` (logged in before).
pub fn push_script(input: &CiInput) -> String {
    let p = input.project;
    let mut out = PRELUDE.to_string();
    for s in &p.services {
        let target = format!("\"$REGISTRY/{}$IMAGE_TAG\"", dq(&format!("{}-{}:", p.id, s.name)));
        out.push_str(&format!(
            "docker tag {} {target}\ndocker push {target}\n",
            local_image(p, &s.name)
        ));
    }
    out
}

/// The kustomization the deploy applies: the Kubernetes export with each service's image
/// replaced by `registry/<project>-<service>:tag`. Names from the repository are YAML
/// double-quoted strings; `registry` and `tag` are written as given.
pub fn kustomization(input: &CiInput, registry: &str, tag: &str) -> String {
    let mut out = format!("resources:\n- {}\n", k8s_file());
    if !input.manifest_images.is_empty() {
        out.push_str("images:\n");
        for (svc, name) in &input.manifest_images {
            out.push_str(&format!(
                "- name: {}\n  newName: \"{registry}/{}-{svc}\"\n  newTag: \"{tag}\"\n",
                yaml_str(name),
                input.project.id
            ));
        }
    }
    out
}

fn k8s_file() -> &'static str {
    K8S_EXPORT_PATH.rsplit('/').next().unwrap_or(K8S_EXPORT_PATH)
}

/// A YAML double-quoted scalar (JSON's string syntax, which YAML reads the same way).
fn yaml_str(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// The shell that writes [`kustomization`] with `$REGISTRY` and `$IMAGE_TAG`: one `printf` per
/// line, every repository string a quoted argument (no here-document, whose text the shell
/// would expand).
fn write_kustomization(input: &CiInput, dest: &str) -> String {
    let mut out = format!("{{\n  printf '%s\\n' 'resources:' {}\n", shell_word(&format!("- {}", k8s_file()), ""));
    if !input.manifest_images.is_empty() {
        out.push_str("  printf '%s\\n' 'images:'\n");
        for (svc, name) in &input.manifest_images {
            out.push_str(&format!(
                "  printf -- '- name: %s\\n  newName: \"%s/%s\"\\n  newTag: \"%s\"\\n' {} \"$REGISTRY\" {} \"$IMAGE_TAG\"\n",
                shell_word(&yaml_str(name), ""),
                shell_word(&format!("{}-{svc}", input.project.id), "")
            ));
        }
    }
    out.push_str(&format!("}} > {dest}\n"));
    out
}

/// Deploy: the namespace, the database Secrets from the CI's credentials, the Kubernetes export
/// (without its placeholder Secrets) with this build's images by server-side apply as field
/// manager `slipway`, then every rollout to its end.
pub fn deploy_script(input: &CiInput) -> String {
    let p = input.project;
    let ns = shell_word(&input.namespace, "");
    let apply = format!("kubectl apply --server-side --field-manager {FIELD_MANAGER}");
    let mut out = PRELUDE.to_string();
    out.push_str(&format!(
        "manifests={}\n",
        shell_word(&in_project(p, K8S_EXPORT_PATH), "")
    ));
    out.push_str(&format!(
        "if [ ! -f \"$manifests\" ]; then\n  echo \"$manifests is missing: write it with 'slipway export k8s -o {K8S_EXPORT_PATH}' and commit it\" >&2\n  exit 1\nfi\n"
    ));
    out.push_str(&format!(
        "kubectl get namespace {ns} >/dev/null 2>&1 || kubectl create namespace {ns}\n"
    ));
    for s in &input.secrets {
        let lits: String = s
            .data
            .iter()
            .map(|(k, v)| {
                format!(
                    " --from-literal={}",
                    shell_word(&format!("{k}={v}"), "DB_PASSWORD")
                )
            })
            .collect();
        out.push_str(&format!("kubectl -n {ns} create secret generic {}{lits} --dry-run=client -o yaml | {apply} -f -\n", shell_word(&s.name, "")));
    }
    out.push_str("dir=$(mktemp -d)\ncp \"$manifests\" \"$dir/\"\n");
    out.push_str(&write_kustomization(input, "\"$dir/kustomization.yaml\""));
    out.push_str(&format!(
        "{apply} -k \"$dir\" -l '{}!=true'\n",
        super::LABEL_PLACEHOLDER
    ));
    for d in &input.rollouts {
        out.push_str(&format!(
            "kubectl -n {ns} rollout status {} --timeout={ROLLOUT_TIMEOUT_SECS}s\n",
            shell_word(d, "")
        ));
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::pipeline::project::{DeploySpec, Source};

    pub fn svc(name: &str, port: Option<u16>, deps: &[&str], test: Option<&[&str]>) -> ServiceSpec {
        let mut env = BTreeMap::new();
        env.insert("GREETING".into(), "hello world".into());
        ServiceSpec {
            name: name.into(),
            context: name.into(),
            dockerfile: "Dockerfile".into(),
            port,
            env,
            depends_on: deps.iter().map(|s| s.to_string()).collect(),
            test_command: test.map(|t| t.iter().map(|s| s.to_string()).collect()),
            tests: test.is_some(),
            build_args: BTreeMap::new(),
            language: Some("python".into()),
            health_path: Some("/healthz".into()),
            ..Default::default()
        }
    }

    pub fn sample() -> Project {
        Project {
            id: "sample".into(),
            source: Source::Path { path: "/x".into() },
            subdir: String::new(),
            git_ref: "HEAD".into(),
            services: vec![
                svc(
                    "backend",
                    Some(8000),
                    &["db"],
                    Some(&["pytest", "-q", "--junitxml=/reports/junit.xml"]),
                ),
                svc(
                    "frontend",
                    Some(8080),
                    &["backend"],
                    Some(&["pytest", "--junitxml=/reports/junit.xml"]),
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

    pub fn input(p: &Project) -> CiInput<'_> {
        let mut data = BTreeMap::new();
        data.insert("DB_HOST".to_string(), "db".to_string());
        data.insert("DB_PASSWORD".to_string(), PASSWORD_MARK.to_string());
        data.insert(
            "DATABASE_URL".to_string(),
            format!("mysql://sample:{PASSWORD_MARK}@db:3306/sample"),
        );
        CiInput {
            project: p,
            registry: Some("docker.io/team".into()),
            environment: "staging".into(),
            namespace: "sample".into(),
            manifest_images: p
                .services
                .iter()
                .map(|s| (s.name.clone(), format!("{}-{}", p.id, s.name)))
                .collect(),
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

    #[test]
    fn the_test_script_starts_the_database_and_the_called_services_and_collects_reports() {
        let p = sample();
        let t = test_script(&input(&p), TestDatabase::Sidecar);
        assert!(t.contains("--network-alias db"), "{t}");
        assert!(t.contains("docker cp db/schema.sql \"slipway-$run-db:/docker-entrypoint-initdb.d/schema.sql\""), "{t}");
        assert!(
            t.contains("-e MARIADB_PASSWORD=\"${TEST_DB_PASSWORD}\""),
            "{t}"
        );
        assert!(
            t.contains("-e DB_PASSWORD=\"${TEST_DB_PASSWORD}\""),
            "the backend gets the database: {t}"
        );
        assert!(
            t.contains("Starting backend for the tests that call it")
                && t.contains("wait_http http://backend:8000/healthz"),
            "{t}"
        );
        assert!(
            t.contains("--entrypoint pytest ")
                && t.contains("sample-backend:\"$IMAGE_TAG\" -q --junitxml=/reports/junit.xml || code=$?"),
            "the test command replaces the image's ENTRYPOINT: {t}"
        );
        assert!(t.contains("reports/frontend/junit.xml"), "{t}");
        assert!(t.contains("-e 'GREETING=hello world'"), "{t}");
        assert!(
            !t.contains("grep"),
            "the gate is the JUnit reader, not grep: {t}"
        );
        let svc_mode = test_script(&input(&p), TestDatabase::Service);
        assert!(
            svc_mode.contains("net=\"$TEST_NETWORK\"")
                && svc_mode.contains("< db/schema.sql")
                && !svc_mode.contains("docker create"),
            "{svc_mode}"
        );
    }

    #[test]
    fn a_service_without_a_test_command_fails_the_stage_and_none_with_tests_skips_it() {
        let mut p = sample();
        p.services[1].test_command = None;
        let t = test_script(&input(&p), TestDatabase::Sidecar);
        assert!(
            t.contains("frontend has no test command") && t.ends_with("exit 1\n"),
            "{t}"
        );
        for s in &mut p.services {
            s.tests = false;
        }
        assert!(test_script(&input(&p), TestDatabase::Sidecar).contains("No service has tests"));
        assert!(
            input(&p).test_database().is_none(),
            "no tests, no test database"
        );
    }

    #[test]
    fn deploy_creates_the_secrets_and_applies_the_export_with_the_new_images() {
        let p = sample();
        let d = deploy_script(&input(&p));
        assert!(d.contains("create secret generic sample-db --from-literal=DATABASE_URL=mysql://sample:\"${DB_PASSWORD}\"@db:3306/sample"), "{d}");
        assert!(d.contains("kubectl apply --server-side --field-manager slipway -k \"$dir\" -l 'slipway.dev/placeholder!=true'"), "{d}");
        assert!(
            d.contains("printf -- '- name: %s\\n  newName: \"%s/%s\"\\n  newTag: \"%s\"\\n' '\"sample-backend\"' \"$REGISTRY\" sample-backend \"$IMAGE_TAG\""),
            "{d}"
        );
        assert!(
            d.contains("rollout status deployment/slipway-proxy --timeout=300s"),
            "{d}"
        );
        assert!(input(&p).deploy_needs_password());
        let mut sub = sample();
        sub.subdir = "examples/app".into();
        assert!(deploy_script(&input(&sub)).contains("manifests=examples/app/slipway/k8s.yaml"));
        assert!(build_script(&input(&sub)).contains("-f examples/app/backend/Dockerfile"));
    }
}
