//! Stage 6: write files, touching only those whose content changed so that
//! cargo's incremental build sees no change where there is none.

use std::io;
use std::path::Path;

use crate::Generated;

/// Write every file below `out_dir`; returns how many were (re)written.
pub fn write(generated: &Generated, out_dir: &Path) -> io::Result<usize> {
    let mut written = 0;
    for f in &generated.files {
        let path = out_dir.join(&f.path);
        if std::fs::read(&path).is_ok_and(|old| old == f.contents.as_bytes()) {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let tmp = path.with_extension("rs.tmp");
        std::fs::write(&tmp, &f.contents)?;
        std::fs::rename(&tmp, &path)?;
        written += 1;
    }
    Ok(written)
}
