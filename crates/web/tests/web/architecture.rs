//! The shape every mission keeps (docs/architecture.md): web handlers parse, call one service method, render;
//! they never reach the store themselves, so that rights and the audit trail cannot be bypassed by a page.

/// Lines of `source` that use the application state's store (`state.store`, or `.store` on a line of its
/// own after `state`), comments aside.
fn store_calls(source: &str) -> Vec<(usize, String)> {
    let lines: Vec<&str> = source.lines().collect();
    let mut found = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        let chained = code.trim_start().starts_with(".store")
            && index > 0
            && lines[index - 1].trim_end().ends_with("state");
        if code.contains("state.store") || chained {
            found.push((index + 1, line.trim().to_string()));
        }
    }
    found
}

#[test]
fn web_mission_modules_call_services_not_the_store() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/missions");
    let mut offenders = Vec::new();
    let mut seen = 0;
    // Every file of every mission, its folder's modules included.
    let mut pending = vec![dir.clone()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            seen += 1;
            let name = path.strip_prefix(&dir).unwrap().display().to_string();
            let calls = store_calls(&std::fs::read_to_string(&path).unwrap());
            if !calls.is_empty() {
                offenders.push(format!("{name}: {calls:?}"));
            }
        }
    }
    assert!(seen >= 20, "only {seen} mission modules read from {dir:?}");
    assert!(
        offenders.is_empty(),
        "store calls in web mission modules (go through the mission's service):\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_store_call_detector_sees_both_shapes() {
    let source = "let a = state.store.find(x);\nlet b = state\n    .store\n    .find(y);\n// state.store in a comment\nlet c = other.store_name;";
    assert_eq!(
        store_calls(source)
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>(),
        vec![1, 3]
    );
}

/// Every `.rs` file under `folder`, recursively.
fn rust_files(folder: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path
                .file_name()
                .is_some_and(|n| n != "target" && n != "node_modules")
            {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_source_file_grows_past_800_lines() {
    // Files by mission and page (docs/architecture.md): a file that passes 800 lines is split by concern.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for folder in ["crates", "bench"] {
        rust_files(&root.join(folder), &mut files);
    }
    assert!(files.len() > 100, "only {} source files found", files.len());
    let long: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let lines = std::fs::read_to_string(path).unwrap().lines().count();
            (lines > 800).then(|| format!("{} ({lines} lines)", path.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these files by concern:\n{}",
        long.join("\n")
    );
}

#[test]
fn only_the_store_makes_a_cpts_id() {
    // Tenancy by construction: `CptsId`'s field is private to the store, so this is also the compiler's rule;
    // the scan keeps a `pub` field or a `From<Uuid>` from quietly coming back.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let models = std::fs::read_to_string(root.join("crates/store/src/models.rs")).unwrap();
    assert!(models.contains("pub struct CptsId(pub(crate) Uuid);"));
    let mut files = Vec::new();
    for folder in [
        "crates/app/src",
        "crates/web/src",
        "crates/cli/src",
        "bench",
    ] {
        rust_files(&root.join(folder), &mut files);
    }
    let makers: Vec<String> = files
        .iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            text.contains("CptsId(") || text.contains("for CptsId")
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        makers.is_empty(),
        "CptsId made outside the store: {makers:?}"
    );
}
