//! `[exports]`: where data-export archives are written.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The data exports' settings (docs/CONFIGURATION.md).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ExportSettings {
    /// The directory of the archives; `<data_dir>/exports` when unset.
    pub dir: Option<PathBuf>,
}

impl super::Settings {
    /// Where data-export archives are written.
    pub fn exports_dir(&self) -> PathBuf {
        self.exports
            .dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("exports"))
    }
}
