//! cloud-init documents for the VMs: what used to be installed by hand, as `#cloud-config`
//! for Amazon Linux 2023 (dnf). Checked against cloud-init's own schema in the test suite.

/// docker compose v2.29.7 for Linux x86_64, and its SHA-256 (the release's published
/// `docker-compose-linux-x86_64.sha256`).
pub const COMPOSE: &str = "https://github.com/docker/compose/releases/download/v2.29.7/docker-compose-linux-x86_64";
pub const COMPOSE_SHA256: &str = "383ce6698cd5d5bbf958d2c8489ed75094e34a77d340404d9f32c4ae9e12baf0";
/// kubectl v1.30.5 for Linux amd64, and its SHA-256 (dl.k8s.io's `kubectl.sha256`).
pub const KUBECTL: &str = "https://dl.k8s.io/release/v1.30.5/bin/linux/amd64/kubectl";
pub const KUBECTL_SHA256: &str = "b8aa921a580c3d8ba473236815de5ce5173d6fbfa2ccff453fa5eef46cc5ee7a";

/// Downloads `url` to `dest` and installs it (mode 0755) only when its SHA-256 is `sha256`: a
/// changed or truncated download is deleted and the command fails, so cloud-init reports it.
pub fn verified_download(url: &str, sha256: &str, dest: &str) -> String {
    let tmp = format!("{dest}.download");
    format!(
        "  - [sh, -c, 'curl -fsSL -o \"$1\" \"$2\" && echo \"$3  $1\" | sha256sum -c - && install -m 0755 \"$1\" \"$4\"; rc=$?; rm -f \"$1\"; exit $rc', verified-download, \"{tmp}\", \"{url}\", \"{sha256}\", \"{dest}\"]\n"
    )
}

fn common_runcmd() -> String {
    format!(
        "  - [systemctl, enable, --now, docker]\n  - [usermod, -aG, docker, ec2-user]\n  - [mkdir, -p, /usr/local/lib/docker/cli-plugins]\n{}",
        verified_download(COMPOSE, COMPOSE_SHA256, "/usr/local/lib/docker/cli-plugins/docker-compose")
    )
}

/// The CI VM: Docker and compose, kubectl, Jenkins, the AWS CLI (part of Amazon Linux), the
/// MySQL client, git.
pub fn ci_vm() -> String {
    format!(
        "#cloud-config\n\
package_update: true\n\
yum_repos:\n  jenkins:\n    name: Jenkins stable\n    baseurl: https://pkg.jenkins.io/redhat-stable\n    gpgcheck: true\n    gpgkey: https://pkg.jenkins.io/redhat-stable/jenkins.io-2023.key\n    enabled: true\n\
packages:\n  - docker\n  - git\n  - mariadb105\n  - awscli-2\n  - java-17-amazon-corretto-headless\n  - jenkins\n\
write_files:\n  - path: /etc/profile.d/slipway.sh\n    permissions: '0644'\n    content: |\n      export SLIPWAY_ROLE=ci\n\
runcmd:\n{}{}  - [usermod, -aG, docker, jenkins]\n  - [systemctl, enable, --now, jenkins]\n",
        common_runcmd(),
        verified_download(KUBECTL, KUBECTL_SHA256, "/usr/local/bin/kubectl")
    )
}

/// The test VM: Docker and compose, pytest, the MySQL client, git.
pub fn test_vm() -> String {
    format!(
        "#cloud-config\n\
package_update: true\n\
packages:\n  - docker\n  - git\n  - mariadb105\n  - python3-pip\n\
write_files:\n  - path: /etc/profile.d/slipway.sh\n    permissions: '0644'\n    content: |\n      export SLIPWAY_ROLE=test\n\
runcmd:\n{}  - [python3, -m, pip, install, pytest]\n",
        common_runcmd()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn documents_start_with_the_cloud_config_header_and_install_the_tools() {
        for (doc, tools) in [
            (super::ci_vm(), &["docker", "jenkins", "mariadb105", "git", "kubectl", "docker-compose", "awscli-2"][..]),
            (super::test_vm(), &["docker", "pytest", "mariadb105", "git", "docker-compose"][..]),
        ] {
            assert!(doc.starts_with("#cloud-config\n"));
            for t in tools {
                assert!(doc.contains(t), "{t} missing from\n{doc}");
            }
            assert!(!doc.contains('\t'), "YAML must not contain tabs");
        }
    }
}
