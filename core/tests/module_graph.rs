//! The core's modules import each other without cycles (issue #9 removed
//! three: keyring <-> audit, error -> keyring <- ..., secret <->
//! secure_memory). Reads the sources: every `crate::<module>` path outside
//! comments and test code is an edge; the graph must be acyclic.
#![allow(clippy::unwrap_used, clippy::panic, clippy::std_instead_of_alloc)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The non-test source of a file: comments dropped, and everything from the
/// first `#[cfg(test)]` on (test modules sit at the end of a file).
fn code_of(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules: BTreeMap<String, Vec<std::path::PathBuf>> = BTreeMap::new();
    for entry in fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "lib" {
            continue;
        }
        if path.is_dir() {
            for sub in fs::read_dir(&path).unwrap() {
                let sub = sub.unwrap().path();
                let stem = sub.file_stem().unwrap().to_string_lossy().into_owned();
                if !stem.ends_with("tests") {
                    modules.entry(name.clone()).or_default().push(sub);
                }
            }
        } else if !name.ends_with("tests") && name != "test_vectors" {
            modules.entry(name).or_default().push(path);
        }
    }
    let names: BTreeSet<String> = modules.keys().cloned().collect();
    modules
        .iter()
        .map(|(name, files)| {
            let mut deps = BTreeSet::new();
            for file in files {
                let code = code_of(file);
                for (i, _) in code.match_indices("crate::") {
                    let rest = &code[i + 7..];
                    let end = rest
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(rest.len());
                    let target = &rest[..end];
                    if target != name && names.contains(target) {
                        deps.insert(target.to_string());
                    }
                }
            }
            (name.clone(), deps)
        })
        .collect()
}

#[test]
fn the_module_graph_has_no_cycle() {
    let graph = graph();
    // Depth-first search with an explicit path; a back edge is a cycle.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(node) {
            return;
        }
        if let Some(i) = path.iter().position(|n| n == node) {
            panic!("import cycle: {} -> {node}", path[i..].join(" -> "));
        }
        path.push(node.to_string());
        for dep in graph.get(node).into_iter().flatten() {
            visit(dep, graph, path, done);
        }
        path.pop();
        done.insert(node.to_string());
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, &graph, &mut Vec::new(), &mut done);
    }
    let edges: usize = graph.values().map(BTreeSet::len).sum();
    println!(
        "module graph: {} modules, {edges} imports, no cycle",
        graph.len()
    );
    // The check sees real edges (a broken parser would pass vacuously).
    assert!(graph["store"].contains("keyring_file") && graph["keyring"].contains("audit"));
}
