//! Where Slipway keeps its files: the per-OS data folder, or `--data-dir`.

use std::path::{Path, PathBuf};

/// Creates the data folder (and missing parents) readable by its owner only (0700 on Unix):
/// it holds the store, the run logs and the checkouts. An existing data folder that others can
/// read is narrowed to 0700 too. On Windows the folder inherits the user profile's ACL, which
/// is private to the user already.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        let meta = std::fs::metadata(dir)?;
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// The data folder: `override_dir` if given, else `$SLIPWAY_DATA_DIR`, else the OS convention
/// (Linux: `$XDG_DATA_HOME/slipway` or `~/.local/share/slipway`; macOS: `~/Library/Application
/// Support/dev.slipway.Slipway`; Windows: `%APPDATA%\slipway\Slipway\data`).
pub fn data_dir(override_dir: Option<PathBuf>) -> Result<PathBuf, crate::UserError> {
    if let Some(d) = override_dir {
        return Ok(d);
    }
    if let Some(d) = std::env::var_os("SLIPWAY_DATA_DIR").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    directories::ProjectDirs::from("dev", "slipway", "Slipway")
        .map(|p| p.data_dir().to_path_buf())
        .ok_or_else(|| {
            crate::UserError::new(
                "No data folder",
                "the home folder could not be found",
                "Set HOME, or pass --data-dir (or SLIPWAY_DATA_DIR) to choose a folder",
            )
        })
}
