//! Writes an EKS cluster into a kubeconfig file the way `aws eks update-kubeconfig` does: one
//! cluster, one user and one context entry, each replacing an entry of the same name, every
//! other entry (and fields this code does not know) kept as they were.
//!
//! The user entry runs the `slipway` CLI as an exec credential plugin
//! (`slipway eks-token --cluster NAME --region REGION`), so kubectl and kube-rs need no `aws`
//! binary. A static bearer token can be written instead (tests, short-lived setups).
//!
//! The file is read and written with kube's own [`Kubeconfig`] types and the YAML crate kube
//! uses (serde-saphyr). It is written atomically (a temporary file in the same folder, then a
//! rename) with mode 0600; a file that cannot be parsed is left untouched.

use kube::config::{AuthInfo, Cluster, Context, ExecConfig, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext};
use slipway_core::secrets::Secret;
use slipway_core::UserError;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The ExecCredential API version the exec user speaks.
pub const EXEC_API_VERSION: &str = "client.authentication.k8s.io/v1beta1";
/// The command the exec user runs unless told otherwise.
pub const SLIPWAY_COMMAND: &str = "slipway";

const WHAT: &str = "Kubeconfig not updated";

/// How the kubeconfig user authenticates to the cluster.
#[derive(Clone, Debug)]
pub enum EksUser {
    /// Run `<command> eks-token --cluster NAME --region REGION [--data-dir DIR]` (an exec
    /// credential plugin). `command` is `slipway` (found on PATH) or an absolute path to a
    /// Slipway binary: the CLI, or the desktop app itself, which answers `eks-token` without
    /// opening a window (so the desktop app needs nothing on PATH). `data_dir` names the data
    /// folder whose AWS connection signs the token (None: the default one).
    Exec { command: String, data_dir: Option<String> },
    /// A fixed bearer token.
    Token(Secret),
}

impl EksUser {
    /// The exec user that calls `slipway` from PATH.
    pub fn slipway() -> Self {
        EksUser::Exec { command: SLIPWAY_COMMAND.to_string(), data_dir: None }
    }

    /// The exec user that runs this very binary (the CLI or the desktop app) with its data folder.
    pub fn this_binary(data_dir: &Path) -> Self {
        let command = std::env::current_exe().ok().map(|p| p.display().to_string()).unwrap_or_else(|| SLIPWAY_COMMAND.to_string());
        EksUser::Exec { command, data_dir: Some(data_dir.display().to_string()) }
    }
}

/// An EKS cluster as a kubeconfig context.
#[derive(Clone, Debug)]
pub struct EksContext {
    /// The name of the context; the cluster and user entries get the same name.
    pub context_name: String,
    /// The EKS cluster's name (what the token is made for).
    pub cluster_name: String,
    /// The cluster's API endpoint, e.g. `https://ABC.gr7.us-west-2.eks.amazonaws.com`.
    pub server: String,
    /// The cluster's certificate authority, base64 of the PEM as EKS returns it (empty: none).
    pub certificate_authority_data: String,
    /// The cluster's region.
    pub region: String,
    pub user: EksUser,
    /// Make this the current context. A file with no current context gets this one anyway.
    pub set_current: bool,
}

/// The exec entry for `command eks-token --cluster NAME --region REGION`.
pub fn exec_config(command: &str, cluster_name: &str, region: &str, data_dir: Option<&str>) -> ExecConfig {
    let mut args: Vec<String> = vec!["eks-token".into(), "--cluster".into(), cluster_name.into(), "--region".into(), region.into()];
    if let Some(d) = data_dir {
        args.extend(["--data-dir".into(), d.into()]);
    }
    ExecConfig {
        api_version: Some(EXEC_API_VERSION.to_string()),
        command: Some(command.to_string()),
        args: Some(args),
        install_hint: Some(
            "This context gets its EKS token from the Slipway CLI (`slipway eks-token`). Install Slipway and put `slipway` on PATH, or connect the cluster again from Slipway."
                .into(),
        ),
        ..Default::default()
    }
}

fn check(ctx: &EksContext) -> Result<(), UserError> {
    let bad = |why: String, fix: &str| Err(UserError::new(WHAT, why, fix));
    let name_ok = |s: &str| !s.trim().is_empty() && !s.chars().any(char::is_control);
    if !name_ok(&ctx.context_name) {
        return bad(format!("'{}' is not a usable context name", ctx.context_name.escape_debug()), "Pick a context name with no line breaks");
    }
    if !name_ok(&ctx.cluster_name) {
        return bad(format!("'{}' is not a usable cluster name", ctx.cluster_name.escape_debug()), "Pass the EKS cluster's name");
    }
    if !(ctx.server.starts_with("https://") || ctx.server.starts_with("http://")) || ctx.server.chars().any(char::is_whitespace) {
        return bad(format!("'{}' is not a cluster endpoint URL", ctx.server), "Pass the cluster's endpoint (https://...) as EKS DescribeCluster returns it");
    }
    if let EksUser::Exec { command, .. } = &ctx.user {
        if !name_ok(command) {
            return bad("the exec command is empty".into(), "Use `slipway` or the absolute path of the Slipway CLI");
        }
    }
    if let EksUser::Token(t) = &ctx.user {
        if t.is_empty() {
            return bad("the token is empty".into(), "Pass a bearer token");
        }
    }
    Ok(())
}

/// Follows a symlinked kubeconfig (common with dotfile managers) so the link survives.
fn resolve(path: &Path) -> PathBuf {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
        _ => path.to_path_buf(),
    }
}

/// Reads the kubeconfig at `path` as it is written (relative paths stay relative); a missing
/// or empty file is an empty kubeconfig.
fn read_existing(path: &Path) -> Result<Kubeconfig, UserError> {
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| {
            UserError::new(WHAT, format!("{} is not a text file (not UTF-8)", path.display()), "Fix or move the file, then try again; it was not changed")
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(UserError::new(WHAT, format!("cannot read {}: {e}", path.display()), "Check the file's permissions, then try again"));
        }
    };
    if text.trim().is_empty() {
        return Ok(Kubeconfig::default());
    }
    Kubeconfig::from_yaml(&text).map_err(|e| {
        UserError::new(
            WHAT,
            format!("{} is not a valid kubeconfig: {e}", path.display()),
            format!("Fix the YAML in {} (or move it away to start a new one), then try again; it was not changed", path.display()),
        )
    })
}

fn upsert<T>(list: &mut Vec<T>, item: T, name: impl Fn(&T) -> &str) {
    let key = name(&item).to_string();
    match list.iter().position(|x| name(x) == key) {
        Some(i) => {
            list[i] = item;
            // Earlier duplicates would win in some readers: keep only the replaced one.
            let mut seen = false;
            list.retain(|x| {
                if name(x) != key {
                    return true;
                }
                let keep = !seen;
                seen = true;
                keep
            });
        }
        None => list.push(item),
    }
}

/// `kc` with the cluster, user and context of `ctx` merged in.
pub fn merge_into(mut kc: Kubeconfig, ctx: &EksContext) -> Kubeconfig {
    let name = ctx.context_name.clone();
    let ca = ctx.certificate_authority_data.trim();
    let cluster = NamedCluster {
        name: name.clone(),
        cluster: Some(Cluster {
            server: Some(ctx.server.clone()),
            certificate_authority_data: (!ca.is_empty()).then(|| ca.to_string()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let auth_info = match &ctx.user {
        EksUser::Exec { command, data_dir } => {
            AuthInfo { exec: Some(exec_config(command, &ctx.cluster_name, &ctx.region, data_dir.as_deref())), ..Default::default() }
        }
        EksUser::Token(t) => AuthInfo { token: Some(t.expose().to_string().into()), ..Default::default() },
    };
    let user = NamedAuthInfo { name: name.clone(), auth_info: Some(auth_info), ..Default::default() };
    let context = NamedContext {
        name: name.clone(),
        context: Some(Context { cluster: name.clone(), user: Some(name.clone()), ..Default::default() }),
        ..Default::default()
    };
    upsert(&mut kc.clusters, cluster, |x| &x.name);
    upsert(&mut kc.auth_infos, user, |x| &x.name);
    upsert(&mut kc.contexts, context, |x| &x.name);
    if ctx.set_current || kc.current_context.as_deref().is_none_or(str::is_empty) {
        kc.current_context = Some(name);
    }
    kc.api_version.get_or_insert_with(|| "v1".into());
    kc.kind.get_or_insert_with(|| "Config".into());
    kc.preferences.get_or_insert_with(Default::default);
    kc
}

/// The YAML kube's types serialize to, with plain scalars (no folded `>` blocks for the long
/// certificate data) so every kubeconfig reader takes it.
pub fn to_yaml(kc: &Kubeconfig) -> Result<String, UserError> {
    let mut opts = serde_saphyr::SerializerOptions::default();
    opts.prefer_block_scalars = false;
    serde_saphyr::to_string_with_options(kc, opts)
        .map_err(|e| UserError::new(WHAT, format!("the kubeconfig could not be written as YAML: {e}"), "Report this as a Slipway bug"))
}

/// Writes `text` to `path` through a temporary file in the same folder and a rename, mode 0600.
fn write_atomically(path: &Path, text: &str) -> Result<(), UserError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let io_err = |what: String, e: std::io::Error| {
        UserError::new(WHAT, format!("{what}: {e}"), format!("Check that {} is writable (permissions, disk space), then try again", dir.display()))
    };
    if !dir.exists() {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir).map_err(|e| io_err(format!("cannot create {}", dir.display()), e))?;
    }
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "config".into());
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let tmp = dir.join(format!(".{file_name}.slipway-{}-{nanos}.tmp", std::process::id()));

    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let result = (|| {
        let mut f = opts.open(&tmp).map_err(|e| io_err(format!("cannot create {}", tmp.display()), e))?;
        f.write_all(text.as_bytes()).map_err(|e| io_err(format!("cannot write {}", tmp.display()), e))?;
        f.sync_all().map_err(|e| io_err(format!("cannot write {}", tmp.display()), e))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(|e| io_err(format!("cannot replace {}", path.display()), e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result?;
    sync_dir(dir);
    Ok(())
}

/// Makes the rename durable (best effort; only where a folder can be opened as a file).
fn sync_dir(dir: &Path) {
    if cfg!(unix) {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

/// Merges the cluster, user and context of `ctx` into the kubeconfig at `path`, creating the
/// file (mode 0600) and its folder when missing. Entries of the same names are replaced; all
/// others, and the current context (unless `ctx.set_current`, or there is none), are kept. A
/// file that is not a valid kubeconfig is an error naming it, and is not changed.
pub fn merge_eks_context(path: &Path, ctx: &EksContext) -> Result<(), UserError> {
    check(ctx)?;
    let target = resolve(path);
    let kc = merge_into(read_existing(&target)?, ctx);
    let yaml = to_yaml(&kc)?;
    // What we write must read back; never replace a file with one kube cannot load.
    Kubeconfig::from_yaml(&yaml)
        .map_err(|e| UserError::new(WHAT, format!("the merged kubeconfig does not read back: {e}"), "Report this as a Slipway bug; the file was not changed"))?;
    write_atomically(&target, &yaml)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::config::KubeConfigOptions;
    use secrecy::ExposeSecret;

    /// A self-signed test CA (base64 of its PEM, as EKS returns certificateAuthority.data).
    const CA_DATA: &str = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJpekNDQVRHZ0F3SUJBZ0lVWTN5UmdnWU00K1ZvSGxjdUZKM0c3SUtGSDhrd0NnWUlLb1pJemowRUF3SXcKR2pFWU1CWUdBMVVFQXd3UGMyeHBjSGRoZVMxMFpYTjBMV05oTUNBWERUSTJNVEV5TmpJeU5UVXlPVm9ZRHpJeApNall4TVRBeU1qSTFOVEk1V2pBYU1SZ3dGZ1lEVlFRRERBOXpiR2x3ZDJGNUxYUmxjM1F0WTJFd1dUQVRCZ2NxCmhrak9QUUlCQmdncWhrak9QUU1CQndOQ0FBUnZoNHYvZUtCTzdZa2NMKzN6cVFZcy8rVmd1cnhNcEt6dXY1VTMKRThpeTRkUFVOVFk5MXc0SGQ5WENEQWdXYUZtWTVROE56S3V0WEJHSVlzQ3cwMndHbzFNd1VUQWRCZ05WSFE0RQpGZ1FVbW0vTWYwbE1oRmZzTFkvcVU3bkZ6djRLV200d0h3WURWUjBqQkJnd0ZvQVVtbS9NZjBsTWhGZnNMWS9xClU3bkZ6djRLV200d0R3WURWUjBUQVFIL0JBVXdBd0VCL3pBS0JnZ3Foa2pPUFFRREFnTklBREJGQWlBYXErZkYKazJWOEd1cHNUczQrc0E2eFhaK3JjRmVTbm9HOTZuRTNFczFYTGdJaEFPeFowZExadC8yOHJwc3FySjJRS3F0dgpRZW04NUxsUkxyWjNLeXVoYng5WgotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg==";

    const EXISTING: &str = "\
apiVersion: v1
kind: Config
current-context: dev
preferences: {}
clusters:
- name: dev-cluster
  cluster:
    server: https://dev.example:6443
    certificate-authority: certs/dev-ca.crt
    custom-cluster-field: keep-me
- name: staging
  cluster:
    server: https://staging.example:6443
contexts:
- name: dev
  context:
    cluster: dev-cluster
    user: dev-user
    namespace: team
- name: staging
  context:
    cluster: staging
    user: staging
users:
- name: dev-user
  user:
    token: dev-token
- name: staging
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [eks, get-token, --cluster-name, staging]
custom-top-level: also-kept
";

    fn ctx(name: &str, user: EksUser, set_current: bool) -> EksContext {
        EksContext {
            context_name: name.into(),
            cluster_name: "demo".into(),
            server: "https://ABCDEF.gr7.us-west-2.eks.amazonaws.com".into(),
            certificate_authority_data: CA_DATA.into(),
            region: "us-west-2".into(),
            user,
            set_current,
        }
    }

    fn names<T>(list: &[T], f: impl Fn(&T) -> &str) -> Vec<String> {
        list.iter().map(|x| f(x).to_string()).collect()
    }

    async fn config_for(path: &Path, context: &str) -> kube::Config {
        let kc = Kubeconfig::read_from(path).expect("written file loads");
        kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions { context: Some(context.into()), ..Default::default() })
            .await
            .expect("context is usable")
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn merge_into_a_missing_file_creates_it() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("nested/.kube/config");
        merge_eks_context(&path, &ctx("eks-demo", EksUser::slipway(), false)).unwrap();
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);

        let kc = Kubeconfig::read_from(&path).unwrap();
        assert_eq!(kc.current_context.as_deref(), Some("eks-demo"), "a file with no current context gets the new one");
        assert_eq!(names(&kc.clusters, |x| &x.name), ["eks-demo"]);
        assert_eq!(names(&kc.auth_infos, |x| &x.name), ["eks-demo"]);
        assert_eq!(names(&kc.contexts, |x| &x.name), ["eks-demo"]);
        assert_eq!(kc.api_version.as_deref(), Some("v1"));
        assert_eq!(kc.kind.as_deref(), Some("Config"));
        let cluster = kc.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(cluster.certificate_authority_data.as_deref(), Some(CA_DATA), "CA data round-trips unchanged");

        let cfg = config_for(&path, "eks-demo").await;
        assert_eq!(cfg.cluster_url.to_string().to_lowercase(), "https://abcdef.gr7.us-west-2.eks.amazonaws.com/");
        assert_eq!(cfg.root_cert.as_ref().map(Vec::len), Some(1), "the CA certificate is loaded");
        let exec = cfg.auth_info.exec.as_ref().expect("exec user");
        assert_eq!(exec.api_version.as_deref(), Some(EXEC_API_VERSION));
        assert_eq!(exec.command.as_deref(), Some("slipway"));
        assert_eq!(exec.args.as_deref().unwrap(), ["eks-token", "--cluster", "demo", "--region", "us-west-2"]);
        assert!(cfg.auth_info.token.is_none());

        // Nothing left behind but the file itself.
        let left: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, [std::ffi::OsString::from("config")]);
    }

    #[tokio::test]
    async fn merge_keeps_other_entries_and_the_current_context() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("config");
        std::fs::write(&path, EXISTING).unwrap();

        merge_eks_context(&path, &ctx("eks-demo", EksUser::slipway(), false)).unwrap();
        let kc = Kubeconfig::from_yaml(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(kc.current_context.as_deref(), Some("dev"), "current context kept");
        assert_eq!(names(&kc.clusters, |x| &x.name), ["dev-cluster", "staging", "eks-demo"]);
        assert_eq!(names(&kc.auth_infos, |x| &x.name), ["dev-user", "staging", "eks-demo"]);
        assert_eq!(names(&kc.contexts, |x| &x.name), ["dev", "staging", "eks-demo"]);
        // The other entries are as they were: relative paths stay relative, unknown fields stay.
        let dev = kc.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(dev.certificate_authority.as_deref(), Some("certs/dev-ca.crt"));
        assert_eq!(dev.other.get("custom-cluster-field").and_then(|v| v.as_str()), Some("keep-me"));
        assert_eq!(kc.other.get("custom-top-level").and_then(|v| v.as_str()), Some("also-kept"));
        assert_eq!(kc.contexts[0].context.as_ref().unwrap().namespace.as_deref(), Some("team"));
        assert_eq!(kc.auth_infos[0].auth_info.as_ref().unwrap().token.as_ref().unwrap().expose_secret(), "dev-token");
        let staging_exec = kc.auth_infos[1].auth_info.as_ref().unwrap().exec.as_ref().unwrap();
        assert_eq!(staging_exec.command.as_deref(), Some("aws"));

        // The old contexts still work, and the new one does.
        let staging = config_for(&path, "staging").await;
        assert_eq!(staging.cluster_url.to_string(), "https://staging.example:6443/");
        config_for(&path, "eks-demo").await;

        // set_current moves the current context.
        merge_eks_context(&path, &ctx("eks-other", EksUser::slipway(), true)).unwrap();
        let kc = Kubeconfig::read_from(&path).unwrap();
        assert_eq!(kc.current_context.as_deref(), Some("eks-other"));
        assert_eq!(kc.contexts.len(), 4);
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);
    }

    #[tokio::test]
    async fn merging_again_replaces_without_duplicates() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("config");
        std::fs::write(&path, EXISTING).unwrap();
        merge_eks_context(&path, &ctx("eks-demo", EksUser::slipway(), false)).unwrap();

        let mut again = ctx("eks-demo", EksUser::Token(Secret::new("static-token-1")), false);
        again.server = "https://NEW.gr7.us-west-2.eks.amazonaws.com".into();
        merge_eks_context(&path, &again).unwrap();
        // And replacing an entry that came with the file ("staging"), in place.
        merge_eks_context(&path, &ctx("staging", EksUser::slipway(), false)).unwrap();

        let kc = Kubeconfig::read_from(&path).unwrap();
        assert_eq!(names(&kc.clusters, |x| &x.name), ["dev-cluster", "staging", "eks-demo"]);
        assert_eq!(names(&kc.auth_infos, |x| &x.name), ["dev-user", "staging", "eks-demo"]);
        assert_eq!(names(&kc.contexts, |x| &x.name), ["dev", "staging", "eks-demo"]);
        assert_eq!(kc.current_context.as_deref(), Some("dev"));

        let cfg = config_for(&path, "eks-demo").await;
        assert_eq!(cfg.cluster_url.to_string().to_lowercase(), "https://new.gr7.us-west-2.eks.amazonaws.com/");
        assert_eq!(cfg.auth_info.token.as_ref().unwrap().expose_secret(), "static-token-1");
        assert!(cfg.auth_info.exec.is_none(), "the exec user was replaced, not merged");
        let staging = config_for(&path, "staging").await;
        assert_eq!(staging.auth_info.exec.as_ref().unwrap().command.as_deref(), Some("slipway"));
    }

    #[test]
    fn duplicates_already_in_the_file_collapse_to_the_new_entry() {
        let kc = Kubeconfig::from_yaml(
            "clusters:\n- name: x\n  cluster:\n    server: https://a\n- name: y\n  cluster:\n    server: https://y\n- name: x\n  cluster:\n    server: https://b\ncontexts: []\nusers: []\n",
        )
        .unwrap();
        assert_eq!(kc.clusters.len(), 3);
        let merged = merge_into(kc, &ctx("x", EksUser::slipway(), false));
        assert_eq!(names(&merged.clusters, |x| &x.name), ["x", "y"]);
        assert_eq!(merged.clusters[0].cluster.as_ref().unwrap().server.as_deref(), Some("https://ABCDEF.gr7.us-west-2.eks.amazonaws.com"));
    }

    #[test]
    fn a_malformed_file_is_named_and_left_alone() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("config");
        for bad in ["apiVersion: v1\nclusters: [\n  - name: x\n", "clusters: 42\n", "- just\n- a list\n"] {
            std::fs::write(&path, bad).unwrap();
            let e = merge_eks_context(&path, &ctx("eks-demo", EksUser::slipway(), true)).unwrap_err();
            assert_eq!(e.what, WHAT);
            assert!(e.why.contains(&path.display().to_string()) && e.why.contains("not a valid kubeconfig"), "{e}");
            assert!(e.fix.contains("not changed"), "{e}");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), bad, "file untouched");
            assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1, "no temp file left");
        }
    }

    #[test]
    fn bad_input_is_refused_before_touching_the_file() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("config");
        let mut c = ctx("eks-demo", EksUser::slipway(), false);
        c.server = "ABCDEF.eks.amazonaws.com".into();
        let e = merge_eks_context(&path, &c).unwrap_err();
        assert!(e.why.contains("not a cluster endpoint URL"), "{e}");
        let e = merge_eks_context(&path, &ctx("", EksUser::slipway(), false)).unwrap_err();
        assert!(e.why.contains("context name"), "{e}");
        let e = merge_eks_context(&path, &ctx("x", EksUser::Token(Secret::new(" ")), false)).unwrap_err();
        assert!(e.why.contains("token is empty"), "{e}");
        assert!(!path.exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_kubeconfig_stays_a_symlink() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("dotfiles-kubeconfig");
        std::fs::write(&real, EXISTING).unwrap();
        let link = d.path().join("config");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        merge_eks_context(&link, &ctx("eks-demo", EksUser::slipway(), false)).unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(Kubeconfig::read_from(&real).unwrap().contexts.len(), 3);
    }

    #[test]
    fn an_empty_file_is_an_empty_kubeconfig() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("config");
        std::fs::write(&path, "\n").unwrap();
        merge_eks_context(&path, &ctx("eks-demo", EksUser::Token(Secret::new("t")), false)).unwrap();
        let kc = Kubeconfig::read_from(&path).unwrap();
        assert_eq!(kc.contexts.len(), 1);
        assert_eq!(kc.current_context.as_deref(), Some("eks-demo"));
    }

    #[test]
    fn written_yaml_uses_plain_scalars() {
        let kc = merge_into(Kubeconfig::default(), &ctx("eks-demo", EksUser::slipway(), false));
        let yaml = to_yaml(&kc).unwrap();
        assert!(yaml.contains(&format!("certificate-authority-data: {CA_DATA}")), "{yaml}");
        assert!(yaml.contains("current-context: eks-demo"), "{yaml}");
    }
}
