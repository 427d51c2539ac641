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
