//! Where Slipway keeps its files: the per-OS data folder, or `--data-dir`.

use std::path::PathBuf;

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
