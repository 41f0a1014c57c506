//! The pipeline as a GitHub Actions workflow (`.github/workflows/slipway.yml`): the jobs Build,
//! Test, Push and Deploy (Checkout is each job's first step), each running the shell of
//! [`super::ci`]. The images travel from Build to Test and Push as an artifact. The test database
//! is a service container of the Test job; the JUnit reports are uploaded and published by
//! `dorny/test-reporter`, whose failure on a failing case (or on no report) is the test gate.
//! Push logs in to the registry with the secrets `REGISTRY_USERNAME` and `REGISTRY_PASSWORD`;
//! Deploy (pushes to the default branch only) reads the secrets `KUBECONFIG` and `DB_PASSWORD`
//! and runs in the GitHub environment named like Slipway's.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::ci::{self, CiInput, TestDatabase};

/// A YAML value whose maps keep their order.
#[derive(Debug, Clone)]
enum Y {
    Str(String),
    Bool(bool),
    Num(u64),
    List(Vec<Y>),
    Map(Vec<(String, Y)>),
}

impl Serialize for Y {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Y::Str(t) => s.serialize_str(t),
            Y::Bool(b) => s.serialize_bool(*b),
            Y::Num(n) => s.serialize_u64(*n),
            Y::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            Y::Map(entries) => {
                let mut m = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
        }
    }
}

fn st(s: impl Into<String>) -> Y {
    Y::Str(s.into())
}

/// A string from the repository or the person (an image, a name, a namespace) where GitHub
/// evaluates `${{ }}`: each `${{` becomes the expression `${{ '${{' }}`, whose value is the text
/// `${{` itself, so the string stays data. (Scripts never hold one: see `shell_word`.)
fn data(s: impl Into<String>) -> Y {
    Y::Str(s.into().replace("${{", "${{ '${{' }}"))
}

fn map(entries: Vec<(&str, Y)>) -> Y {
    Y::Map(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// A step that runs a bash script.
fn run(name: &str, script: &str, env: Vec<(&str, Y)>) -> Y {
    let mut e = vec![
        ("name", st(name)),
        ("shell", st("bash")),
        ("run", st(script)),
    ];
    if !env.is_empty() {
        e.insert(1, ("env", map(env)));
    }
    map(e)
}

fn uses(name: &str, action: (&str, &str), with: Vec<(&str, Y)>) -> Y {
    let mut e = vec![("name", st(name)), ("uses", st(action.0))];
    if !with.is_empty() {
        e.push(("with", map(with)));
    }
    map(e)
}

fn with_if(step: Y, cond: &str) -> Y {
    match step {
        Y::Map(mut e) => {
            e.insert(1, ("if".into(), st(cond)));
            Y::Map(e)
        }
        other => other,
    }
}

// Actions are pinned by commit (a tag can be moved to other code); the release is in a comment
// beside each `uses:` in the file.
const CHECKOUT: (&str, &str) = ("actions/checkout@11d5960a326750d5838078e36cf38b85af677262", "v4.4.0");
const UPLOAD: (&str, &str) = ("actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02", "v4.6.2");
const DOWNLOAD: (&str, &str) = ("actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093", "v4.3.0");
const TEST_REPORTER: (&str, &str) = ("dorny/test-reporter@31a54ee7ebcacc03a09ea97a7e5465a47b84aea5", "v1.9.1");
const LOGIN: (&str, &str) = ("docker/login-action@c94ce9fb468520275223c153574b00df6fe4bcc9", "v3.7.0");
/// Every action the workflow uses, with its release.
pub const ACTIONS: [(&str, &str); 5] = [CHECKOUT, UPLOAD, DOWNLOAD, TEST_REPORTER, LOGIN];
const IMAGE_TAG: &str = "echo \"IMAGE_TAG=${GITHUB_SHA::12}\" >> \"$GITHUB_ENV\"";
const RUN_ID: &str = "${{ github.run_id }}-${{ github.run_attempt }}";

fn checkout() -> Y {
    uses("Checkout", CHECKOUT, vec![])
}

fn load_images() -> Vec<Y> {
    vec![
        uses(
            "Download the images",
            DOWNLOAD,
            vec![("name", st("images"))],
        ),
        run(
            "Load the images",
            "gunzip -c images.tar.gz | docker load\n",
            vec![],
        ),
    ]
}

/// The workflow of a project, as YAML.
pub fn workflow(input: &CiInput) -> String {
    let p = input.project;
    let mut jobs: Vec<(String, Y)> = vec![];

    // Build
    jobs.push((
        "build".into(),
        map(vec![
            ("name", st("Build")),
            ("runs-on", st("ubuntu-latest")),
            (
                "steps",
                Y::List(vec![
                    checkout(),
                    run("Image tag", &format!("{IMAGE_TAG}\n"), vec![]),
                    run(
                        "Build the images",
                        &ci::build_script(input),
                        vec![("RUN_ID", st(RUN_ID))],
                    ),
                    run(
                        "Save the images",
                        &format!(
                            "set -euo pipefail\ndocker save {} | gzip > images.tar.gz\n",
                            ci::image_list(input)
                        ),
                        vec![],
                    ),
                    uses(
                        "Upload the images",
                        UPLOAD,
                        vec![
                            ("name", st("images")),
                            ("path", st("images.tar.gz")),
                            ("retention-days", Y::Num(1)),
                        ],
                    ),
                ]),
            ),
        ]),
    ));

    // Test
    let testers = !input.testers().is_empty();
    let db = input.test_database();
    let mut test_env = vec![("RUN_ID", st(RUN_ID))];
    let mut test: Vec<(&str, Y)> = vec![
        ("name", st("Test")),
        ("needs", st("build")),
        ("runs-on", st("ubuntu-latest")),
    ];
    if testers {
        test.push((
            "permissions",
            map(vec![("contents", st("read")), ("checks", st("write"))]),
        ));
    }
    if let Some(db) = db {
        let env: Vec<(String, Y)> = ci::test_database_env(db)
            .into_iter()
            .map(|(k, v)| {
                (
                    k,
                    // The repository's text is data; the password is the expression.
                    {
                        let parts: Vec<String> = v.split(super::PASSWORD_MARK).map(|p| p.replace("${{", "${{ '${{' }}")).collect();
                        st(parts.join("test-${{ github.run_id }}"))
                    },
                )
            })
            .collect();
        test.push((
            "services",
            Y::Map(vec![(
                db.name.clone(),
                map(vec![
                    ("image", data(db.image.clone())),
                    ("env", Y::Map(env)),
                    ("options", st(format!("--health-cmd \"{}\" --health-interval 2s --health-timeout 5s --health-retries 90", ci::DB_HEALTH_CMD))),
                ]),
            )]),
        ));
        test_env.push((
            "TEST_NETWORK",
            st(format!("${{{{ job.services.{}.network }}}}", db.name)),
        ));
        test_env.push((
            "TEST_DB_CONTAINER",
            st(format!("${{{{ job.services.{}.id }}}}", db.name)),
        ));
    }
    // A throwaway password: the test database lives only in this job's network.
    test_env.push(("TEST_DB_PASSWORD", st("test-${{ github.run_id }}")));
    let mut steps = vec![
        checkout(),
        run("Image tag", &format!("{IMAGE_TAG}\n"), vec![]),
    ];
    steps.extend(load_images());
    steps.push(run(
        "Run the tests",
        &ci::test_script(input, TestDatabase::Service),
        test_env,
    ));
    if testers {
        steps.push(with_if(
            uses(
                "Upload the test reports",
                UPLOAD,
                vec![
                    ("name", st("test-reports")),
                    ("path", st("reports/\ncoverage/\n")),
                    ("if-no-files-found", st("ignore")),
                ],
            ),
            "always()",
        ));
        steps.push(with_if(
            uses(
                "Test results",
                TEST_REPORTER,
                vec![
                    ("name", st("Test results")),
                    ("path", st("reports/**/*.xml")),
                    ("reporter", st("java-junit")),
                    ("fail-on-error", Y::Bool(true)),
                    ("fail-on-empty", Y::Bool(true)),
                ],
            ),
            "always()",
        ));
    }
    test.push(("steps", Y::List(steps)));
    jobs.push(("test".into(), map(test)));

    // Push
    let host = input
        .registry()
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let mut steps = vec![run("Image tag", &format!("{IMAGE_TAG}\n"), vec![])];
    steps.extend(load_images());
    steps.push(uses(
        "Log in to the registry",
        LOGIN,
        vec![
            ("registry", data(host)),
            ("username", st("${{ secrets.REGISTRY_USERNAME }}")),
            ("password", st("${{ secrets.REGISTRY_PASSWORD }}")),
        ],
    ));
    steps.push(run(
        "Push the images",
        &ci::push_script(input),
        vec![("RUN_ID", st(RUN_ID))],
    ));
    jobs.push((
        "push".into(),
        map(vec![
            ("name", st("Push")),
            ("needs", st("test")),
            ("if", st("github.event_name != 'pull_request'")),
            ("runs-on", st("ubuntu-latest")),
            ("steps", Y::List(steps)),
        ]),
    ));

    // Deploy
    let mut deploy_env = vec![("RUN_ID", st(RUN_ID))];
    if input.deploy_needs_password() {
        deploy_env.push(("DB_PASSWORD", st("${{ secrets.DB_PASSWORD }}")));
    }
    jobs.push((
        "deploy".into(),
        map(vec![
            ("name", st("Deploy")),
            ("needs", st("push")),
            ("if", st("github.event_name != 'pull_request' && github.ref_name == github.event.repository.default_branch")),
            ("runs-on", st("ubuntu-latest")),
            ("environment", data(input.environment.clone())),
            (
                "steps",
                Y::List(vec![
                    checkout(),
                    run("Image tag", &format!("{IMAGE_TAG}\n"), vec![]),
                    run(
                        "Set up kubectl",
                        &format!(
                            "set -euo pipefail\nmkdir -p \"$RUNNER_TEMP/bin\"\ncurl -fsSL -o \"$RUNNER_TEMP/bin/kubectl\" {url}\necho \"{sha}  $RUNNER_TEMP/bin/kubectl\" | sha256sum -c -\nchmod 0755 \"$RUNNER_TEMP/bin/kubectl\"\necho \"$RUNNER_TEMP/bin\" >> \"$GITHUB_PATH\"\n",
                            url = crate::provision::cloudinit::KUBECTL,
                            sha = crate::provision::cloudinit::KUBECTL_SHA256
                        ),
                        vec![],
                    ),
                    run(
                        "Kubeconfig",
                        "set -euo pipefail\nprintf '%s\\n' \"$KUBECONFIG_TEXT\" > \"$RUNNER_TEMP/kubeconfig\"\nchmod 600 \"$RUNNER_TEMP/kubeconfig\"\necho \"KUBECONFIG=$RUNNER_TEMP/kubeconfig\" >> \"$GITHUB_ENV\"\n",
                        vec![("KUBECONFIG_TEXT", st("${{ secrets.KUBECONFIG }}"))],
                    ),
                    run("Deploy", &ci::deploy_script(input), deploy_env),
                ]),
            ),
        ]),
    ));

    let mut env = vec![
        ("PROJECT", st(p.id.clone())),
        ("REGISTRY", data(input.registry())),
        ("K8S_NAMESPACE", data(input.namespace.clone())),
    ];
    env.sort_by_key(|(k, _)| *k);
    let doc = map(vec![
        ("name", st(format!("slipway ({})", p.id))),
        (
            "on",
            map(vec![
                ("push", map(vec![])),
                ("pull_request", map(vec![])),
                ("workflow_dispatch", map(vec![])),
            ]),
        ),
        ("permissions", map(vec![("contents", st("read"))])),
        (
            "concurrency",
            map(vec![
                ("group", st("slipway-${{ github.ref }}")),
                ("cancel-in-progress", Y::Bool(false)),
            ]),
        ),
        ("env", map(env)),
        ("jobs", Y::Map(jobs)),
    ]);
    let yaml = serde_saphyr::to_string(&doc)
        .unwrap_or_else(|e| format!("# the workflow could not be written: {e}\n"));
    // The release beside each pinned action, as a comment.
    let yaml: String = yaml
        .lines()
        .map(|l| match ACTIONS.iter().find(|(a, _)| l.trim_end().ends_with(&format!("uses: {a}"))) {
            Some((_, tag)) => format!("{l} # {tag}\n"),
            None => format!("{l}\n"),
        })
        .collect();
    format!(
        "# GitHub Actions workflow of project {id}, written by `slipway export github-actions`: the same\n\
         # stages as a Slipway run. Build, Test (the JUnit reports are the gate), Push, and Deploy on the\n\
         # default branch. Secrets: REGISTRY_USERNAME, REGISTRY_PASSWORD, KUBECONFIG{db}.\n\
         # Deploy applies {k8s}: write it with `slipway export k8s -o {k8s}` and commit it.\n{yaml}",
        id = p.id,
        db = if input.deploy_needs_password() { ", DB_PASSWORD" } else { "" },
        k8s = ci::K8S_EXPORT_PATH,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::ci::tests::{input, sample};

    #[test]
    fn the_workflow_reads_back_with_its_jobs_in_order_and_scripts_intact() {
        let p = sample();
        let i = input(&p);
        let text = workflow(&i);
        let v: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        let jobs: Vec<&String> = v["jobs"].as_object().unwrap().keys().collect();
        assert_eq!(jobs.len(), 4);
        // Maps keep their order in the text.
        let pos = |k: &str| {
            text.find(&format!("\n  {k}:\n"))
                .unwrap_or_else(|| panic!("{k} missing:\n{text}"))
        };
        assert!(
            pos("build") < pos("test") && pos("test") < pos("push") && pos("push") < pos("deploy"),
            "{text}"
        );
        let steps = v["jobs"]["test"]["steps"].as_array().unwrap();
        let run = steps.iter().find(|s| s["name"] == "Run the tests").unwrap();
        assert_eq!(
            run["run"],
            ci::test_script(&i, TestDatabase::Service),
            "the script survives YAML"
        );
        assert_eq!(
            v["jobs"]["test"]["services"]["db"]["image"],
            "mariadb:10.11"
        );
        assert_eq!(v["on"]["push"], serde_json::json!({}));
    }
}
