//! The pipeline as a declarative Jenkinsfile: the five stages of a Slipway run, each running
//! the shell of [`super::ci`]. The test gate is Jenkins' `junit` step in the Test stage's
//! `post { always { ... } }`: a failing case makes the build unstable and a missing report fails
//! it (`allowEmptyResults: false`); Push and Deploy run only while the build is still a success.
//!
//! Credentials it expects in Jenkins: `slipway-registry` (username and password),
//! `slipway-kubeconfig` (secret file) and, when the deployment has a database,
//! `slipway-db-password` (secret text). Plugins: Pipeline, Git, Credentials Binding, JUnit.

use super::ci::{self, CiInput, TestDatabase};

/// Credential ids the Jenkinsfile uses.
pub const CREDENTIAL_REGISTRY: &str = "slipway-registry";
pub const CREDENTIAL_KUBECONFIG: &str = "slipway-kubeconfig";
pub const CREDENTIAL_DB_PASSWORD: &str = "slipway-db-password";

/// A Groovy single-quoted string literal (no interpolation; a line break as `\n`).
fn gstr(s: &str) -> String {
    format!(
        "'{}'",
        s.replace('\\', "\\\\")
            .replace('\'', "\\'")
            .replace('\n', "\\n")
            .replace('\r', "\\r")
    )
}

/// An `sh` step with a bash script (Jenkins runs a script starting with `#!` with that
/// interpreter), as a Groovy ''' string (no interpolation: `$` reaches the shell untouched).
fn sh(script: &str, indent: &str) -> String {
    // The lines are not indented: a here-document needs its terminator at the start of a line.
    // Backslashes are escaped, and a quote wherever it could end the string: before another
    // quote, or last.
    let text = format!("#!/usr/bin/env bash\n{script}").replace('\\', "\\\\");
    let chars: Vec<char> = text.chars().collect();
    let mut body = String::with_capacity(text.len() + 8);
    for (i, c) in chars.iter().enumerate() {
        if *c == '\'' && chars.get(i + 1).is_none_or(|n| *n == '\'') {
            body.push('\\');
        }
        body.push(*c);
    }
    format!("{indent}sh '''{body}'''\n")
}

/// The Jenkinsfile of a project.
pub fn jenkinsfile(input: &CiInput) -> String {
    let p = input.project;
    let gate = "when { expression { currentBuild.currentResult == 'SUCCESS' } }";
    let mut o = String::new();
    o.push_str(&format!(
        "// Jenkinsfile of project {id}, written by `slipway export jenkinsfile`: the same five stages as a\n\
         // Slipway run (Checkout, Build, Test, Push, Deploy). The test gate is the junit step: a failing\n\
         // case makes the build unstable, a missing report fails it, and either stops Push and Deploy.\n\
         //\n\
         // Jenkins needs: an agent with docker, git, bash and kubectl; the plugins Pipeline, Git,\n\
         // Credentials Binding and JUnit; the credentials {reg} (registry username and password),\n\
         // {kc} (kubeconfig, secret file){db}.\n\
         // Deploy applies {k8s}: write it with `slipway export k8s -o {k8s}` and commit it.\n",
        id = p.id,
        reg = CREDENTIAL_REGISTRY,
        kc = CREDENTIAL_KUBECONFIG,
        db = if input.deploy_needs_password() { format!(" and {CREDENTIAL_DB_PASSWORD} (the database password, secret text)") } else { String::new() },
        k8s = ci::K8S_EXPORT_PATH,
    ));
    o.push_str("pipeline {\n    agent any\n\n    options {\n        skipDefaultCheckout()\n");
    if p.concurrency <= 1 {
        o.push_str("        disableConcurrentBuilds()\n");
    }
    o.push_str("        timeout(time: 60, unit: 'MINUTES')\n    }\n\n");
    o.push_str("    environment {\n");
    o.push_str(&format!("        PROJECT = {}\n", gstr(&p.id)));
    o.push_str(&format!("        REGISTRY = {}\n", gstr(&input.registry())));
    o.push_str(&format!(
        "        K8S_NAMESPACE = {}\n",
        gstr(&input.namespace)
    ));
    o.push_str("        RUN_ID = \"${env.BUILD_TAG}\"\n    }\n\n");
    o.push_str("    stages {\n");

    // Checkout
    o.push_str("        stage('Checkout') {\n            steps {\n                checkout scm\n                script {\n");
    o.push_str("                    env.IMAGE_TAG = sh(script: 'git rev-parse HEAD | cut -c1-12', returnStdout: true).trim()\n");
    o.push_str("                }\n            }\n        }\n\n");

    // Build
    o.push_str("        stage('Build') {\n            steps {\n");
    o.push_str(&sh(&ci::build_script(input), "                "));
    o.push_str("            }\n        }\n\n");

    // Test
    o.push_str("        stage('Test') {\n            steps {\n");
    let has_tests = !input.testers().is_empty();
    if has_tests {
        o.push_str("                script {\n                    // A throwaway password for the test database, which lives only in this build's network.\n");
        o.push_str("                    env.TEST_DB_PASSWORD = sh(script: 'od -An -N12 -tx1 /dev/urandom | tr -d \" \\\\n\"', returnStdout: true).trim()\n");
        o.push_str("                }\n");
    }
    o.push_str(&sh(
        &ci::test_script(input, TestDatabase::Sidecar),
        "                ",
    ));
    o.push_str("            }\n");
    if has_tests {
        o.push_str("            post {\n                always {\n");
        o.push_str(
            "                    junit testResults: 'reports/**/*.xml', allowEmptyResults: false\n",
        );
        o.push_str("                }\n            }\n");
    }
    o.push_str("        }\n\n");

    // Push
    o.push_str(&format!(
        "        stage('Push') {{\n            {gate}\n            steps {{\n"
    ));
    o.push_str(&format!(
        "                withCredentials([usernamePassword(credentialsId: {}, usernameVariable: 'REGISTRY_USER', passwordVariable: 'REGISTRY_PASSWORD')]) {{\n",
        gstr(CREDENTIAL_REGISTRY)
    ));
    let login = "set -euo pipefail\nprintf '%s' \"$REGISTRY_PASSWORD\" | docker login \"${REGISTRY%%/*}\" -u \"$REGISTRY_USER\" --password-stdin\n";
    o.push_str(&sh(login, "                    "));
    o.push_str(&sh(&ci::push_script(input), "                    "));
    o.push_str("                }\n            }\n        }\n\n");

    // Deploy
    o.push_str(&format!(
        "        stage('Deploy') {{\n            {gate}\n            steps {{\n"
    ));
    let mut creds = vec![format!(
        "file(credentialsId: {}, variable: 'KUBECONFIG')",
        gstr(CREDENTIAL_KUBECONFIG)
    )];
    if input.deploy_needs_password() {
        creds.push(format!(
            "string(credentialsId: {}, variable: 'DB_PASSWORD')",
            gstr(CREDENTIAL_DB_PASSWORD)
        ));
    }
    o.push_str(&format!(
        "                withCredentials([{}]) {{\n",
        creds.join(", ")
    ));
    o.push_str(&sh(&ci::deploy_script(input), "                    "));
    o.push_str("                }\n            }\n        }\n    }\n\n");

    o.push_str("    post {\n        always {\n");
    o.push_str("            sh 'docker ps -aq --filter \"label=slipway.run=$(printf %s \"$RUN_ID\" | tr -c A-Za-z0-9_.- -)\" | xargs -r docker rm -f || true'\n");
    o.push_str("        }\n        unstable {\n            echo 'Tests failed: read the test results of this build. Nothing was pushed or deployed.'\n        }\n");
    o.push_str("    }\n}\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::ci::tests::{input, sample};

    #[test]
    fn scripts_keep_their_backslashes_and_quotes_inside_groovy() {
        let s = sh("echo 'a\\b'\n", "  ");
        assert!(s.contains("echo 'a\\\\b'"), "{s}");
        assert!(s.starts_with("  sh '''#!/usr/bin/env bash\n"), "{s}");
        assert_eq!(gstr("it's"), "'it\\'s'");
    }

    #[test]
    fn without_a_database_there_is_no_password_credential() {
        let mut p = sample();
        p.database = None;
        let mut i = input(&p);
        i.secrets.clear();
        let j = jenkinsfile(&i);
        assert!(!j.contains(CREDENTIAL_DB_PASSWORD), "{j}");
        assert!(!j.contains("--network-alias db"), "{j}");
    }
}
