//! Builds every file under the source tree's `assets/` (the plots' font
//! aside, which the CLI carries) into the crate, so that a binary or a
//! Python wheel made from it needs no source tree: `$OUT_DIR/assets.rs`
//! holds `(path under assets/, bytes)` pairs, sorted by path.

use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e} (the assets folder)", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "fonts") {
                walk(&path, out);
            }
        } else if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| !n.starts_with('.')) {
            out.push(path);
        }
    }
}

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest).join("../../assets");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    walk(&root, &mut files);
    assert!(!files.is_empty(), "{}: no assets to build in", root.display());
    let mut named: Vec<(String, PathBuf)> = files
        .into_iter()
        .map(|f| (f.strip_prefix(&root).expect("under assets/").to_string_lossy().replace('\\', "/"), f))
        .collect();
    // Sorted as strings: the crate finds a file by binary search.
    named.sort();
    let mut code = String::from("const BUILTIN: &[(&str, &[u8])] = &[\n");
    for (rel, file) in &named {
        let abs = file.canonicalize().expect("an asset file");
        code.push_str(&format!("    ({rel:?}, include_bytes!({:?})),\n", abs.display().to_string()));
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("assets.rs");
    std::fs::write(out, code).expect("writing the asset table");
}
