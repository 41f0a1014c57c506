//! How WebKitGTK paints on Linux. With no GPU (no DRM render node: a VM, a container, Xvfb),
//! WebKit's accelerated compositing runs OpenGL on Mesa's software rasterizer. That costs about
//! 120 MB in the web process (`scripts/bench.sh desktop` measures both ways) and, seen in this
//! project's CI, can crash the web process
//! inside `swrast_dri.so` (a general protection fault in its ThreadedCompositor), which ends the
//! window's page. Without a GPU, Slipway therefore asks WebKit to paint without compositing, on
//! the CPU. A user who sets `WEBKIT_DISABLE_COMPOSITING_MODE` themselves (to any value, `0`
//! included) decides instead.

use std::path::Path;

/// The environment variable WebKitGTK reads.
pub const DISABLE_COMPOSITING: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// What to do about compositing, and why (logged at startup).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compositing {
    /// The user set the variable; left alone.
    UserChoice(String),
    /// A GPU render node exists; WebKit composites on it.
    Gpu(String),
    /// No render node: compositing off.
    SoftwareOnly,
}

/// Decides from the user's setting and the render nodes found under `/dev/dri`.
pub fn decide(user_setting: Option<String>, render_nodes: &[String]) -> Compositing {
    if let Some(v) = user_setting {
        return Compositing::UserChoice(v);
    }
    match render_nodes.first() {
        Some(node) => Compositing::Gpu(node.clone()),
        None => Compositing::SoftwareOnly,
    }
}

/// The DRM render nodes (`renderD128`...) in `dir`, sorted; none when it does not exist.
pub fn render_nodes(dir: &Path) -> Vec<String> {
    let mut nodes: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("renderD"))
                .collect()
        })
        .unwrap_or_default();
    nodes.sort();
    nodes
}

/// Applies the decision to this process's environment. Call first thing in `main`, before any
/// thread starts (the environment is process-wide) and before GTK initialises.
pub fn configure() -> Compositing {
    let decision = if cfg!(target_os = "linux") {
        decide(
            std::env::var(DISABLE_COMPOSITING).ok(),
            &render_nodes(Path::new("/dev/dri")),
        )
    } else {
        Compositing::UserChoice("not Linux".into())
    };
    if decision == Compositing::SoftwareOnly {
        std::env::set_var(DISABLE_COMPOSITING, "1");
    }
    decision
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_render_node_turns_compositing_off() {
        assert_eq!(decide(None, &[]), Compositing::SoftwareOnly);
    }

    #[test]
    fn a_render_node_keeps_compositing() {
        assert_eq!(
            decide(None, &["renderD128".into()]),
            Compositing::Gpu("renderD128".into())
        );
    }

    #[test]
    fn the_users_setting_wins_either_way() {
        assert_eq!(
            decide(Some("0".into()), &[]),
            Compositing::UserChoice("0".into())
        );
        assert_eq!(
            decide(Some("1".into()), &["renderD128".into()]),
            Compositing::UserChoice("1".into())
        );
    }

    #[test]
    fn render_nodes_lists_only_render_nodes_sorted() {
        let dir = std::env::temp_dir().join(format!("slipway-dri-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for n in ["card0", "renderD129", "renderD128", "by-path"] {
            std::fs::write(dir.join(n), "").unwrap();
        }
        assert_eq!(
            render_nodes(&dir),
            vec!["renderD128".to_string(), "renderD129".to_string()]
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            render_nodes(&dir).is_empty(),
            "a missing /dev/dri has no render nodes"
        );
    }
}
