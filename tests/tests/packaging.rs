//! The generated crates (`twitch`, `twitch-models`) build from their
//! packages alone, so each carries the schema: `generated/schema` and
//! `models/schema` are links to the top-level `schema/` (the one copy
//! maintainers edit), and packaging copies the files. This fails if
//! the two ever differ (a link replaced by a copy that went stale). CI
//! also unpacks the packaged crate and compares its `schema/` with this one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn files(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.insert(path.strip_prefix(root).unwrap().to_owned(), std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

#[test]
fn the_crate_carries_the_schema() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let schema = files(&repo.join("schema"));
    assert!(schema.len() > 40, "{} files", schema.len());
    let names = |m: &BTreeMap<PathBuf, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    for krate in ["generated", "models"] {
        let carried = files(&repo.join(krate).join("schema"));
        assert_eq!(names(&carried), names(&schema), "{krate}/schema lists other files than schema/");
        for (name, bytes) in &schema {
            assert!(carried[name] == *bytes, "{krate}/schema/{} differs from schema/", name.display());
        }
    }
}
