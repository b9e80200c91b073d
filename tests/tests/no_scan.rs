//! DESIGN: every read is a key lookup or a key-range query, so that cost follows what is
//! asked, never the size of the table. No `Scan` call anywhere in the code base.

use std::path::Path;

fn rust_files(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() && path.file_name().is_some_and(|n| n != "target" && !n.to_string_lossy().starts_with('.')) {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn no_code_scans_the_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in ["shared", "functions", "tests", "bench"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 20, "the walk found the sources");
    let this_file = Path::new(file!()).file_name().unwrap();
    let scanning: Vec<_> = files
        .iter()
        .filter(|path| path.file_name() != Some(this_file))
        .filter(|path| std::fs::read_to_string(path).unwrap_or_default().contains(".scan()"))
        .collect();
    assert!(scanning.is_empty(), "Scan used in {scanning:?}");
}
