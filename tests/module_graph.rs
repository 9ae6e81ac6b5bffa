//! Reads the module graph of every crate in the workspace from its sources and checks that
//! the "uses" edges between modules have no cycle, so each crate's modules stay layered
//! the way the crates themselves are.
//!
//! A module uses another when its code names a path into it (`crate::a::b::Item`,
//! `super::x`, `self::y`, also inside `use` groups). A path is resolved to the deepest
//! module it names; a name reached through the crate root's `pub use` re-exports counts as
//! a use of the module that defines it. Declaring a child (`mod x;`) is not a use. Test
//! modules (`#[cfg(test)] mod …` to the end of a file) are left out: they may look at
//! anything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A crate's modules: path ("" for the root, "a::b") → source with comments and tests cut.
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = p.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .iter()
                .map(|c| c.to_string_lossy().into_owned())
                .collect();
            if matches!(
                parts.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                parts.pop();
            }
            out.insert(
                parts.join("::"),
                code_of(&std::fs::read_to_string(&p).unwrap()),
            );
        }
    }
    out
}

/// The code of a file without comments and without its trailing test module.
fn code_of(text: &str) -> String {
    let mut code = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]")
            && lines
                .peek()
                .is_some_and(|n| n.trim_start().starts_with("mod "))
        {
            break;
        }
        let line = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        code.push_str(line);
        code.push('\n');
    }
    code
}

/// Every path that starts with `crate`, `super`, `self` or one of `children`, with `use` groups expanded one
/// level (`use crate::a::{b, c::D}` gives `crate::a::b` and `crate::a::c::D`).
fn paths_in(code: &str, children: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    while i < bytes.len() {
        if !code.is_char_boundary(i) {
            i += 1;
            continue;
        }
        let boundary = i == 0 || !is_ident(bytes[i - 1]) && bytes[i - 1] != b':';
        let rest = &code[i..];
        let starts = boundary
            && ["crate", "super", "self"]
                .into_iter()
                .chain(children.iter().map(String::as_str))
                .any(|s| rest.starts_with(s) && rest[s.len()..].starts_with("::"));
        if !starts {
            i += 1;
            continue;
        }
        // Read segments separated by `::`.
        let mut segs = Vec::new();
        let mut j = i;
        loop {
            let k = j;
            while j < bytes.len() && is_ident(bytes[j]) || (j < bytes.len() && bytes[j] == b'*') {
                j += 1;
            }
            if k == j {
                break;
            }
            segs.push(code[k..j].to_string());
            if code[j..].starts_with("::") {
                j += 2;
            } else {
                break;
            }
        }
        if j < bytes.len() && bytes[j] == b'{' {
            let end = code[j..].find('}').map_or(code.len(), |e| j + e);
            for item in code[j + 1..end].split(',') {
                let mut p = segs.clone();
                p.extend(
                    item.split("::")
                        .map(|s| s.split_whitespace().next().unwrap_or("").to_string())
                        .filter(|s| !s.is_empty() && s != "self"),
                );
                out.push(p);
            }
            j = end;
        } else if !segs.is_empty() {
            out.push(segs);
        }
        i = j.max(i + 1);
    }
    out
}

/// The crate root's re-exports: item name → the module that defines it.
fn reexports(root: &str, mods: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in root.lines() {
        let Some(rest) = line.trim().strip_prefix("pub use ") else {
            continue;
        };
        let rest = rest.trim_end_matches(';');
        let (module, names) = match rest.split_once("::{") {
            Some((m, n)) => (m, n.trim_end_matches('}').to_string()),
            None => match rest.rsplit_once("::") {
                Some((m, n)) => (m, n.to_string()),
                None => continue,
            },
        };
        let module = module.trim_start_matches("self::").replace(' ', "");
        if !mods.contains_key(&module) {
            continue;
        }
        for n in names.split(',') {
            let n = n.split_whitespace().last().unwrap_or("");
            if !n.is_empty() && n != "self" {
                out.insert(n.to_string(), module.clone());
            }
        }
    }
    out
}

/// The uses edges of one crate.
fn edges(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules(src);
    let root = mods.get("").cloned().unwrap_or_default();
    let via_root = reexports(&root, &mods);
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (m, code) in &mods {
        let here: Vec<&str> = if m.is_empty() {
            vec![]
        } else {
            m.split("::").collect()
        };
        // Paths that start at a child module (`machine::Orderer` in `order/mod.rs`).
        let children: Vec<String> = mods
            .keys()
            .filter_map(|k| {
                let rest = if m.is_empty() {
                    k.as_str()
                } else {
                    k.strip_prefix(m.as_str())?.strip_prefix("::")?
                };
                (!rest.is_empty() && !rest.contains("::")).then(|| rest.to_string())
            })
            .collect();
        let mut found = paths_in(code, &children);
        for p in &mut found {
            if children.contains(&p[0]) {
                p.insert(0, "self".to_string());
            }
        }
        for p in found {
            // The module the path starts from, and the rest of it.
            let (mut target, rest): (Vec<String>, &[String]) = match p[0].as_str() {
                "crate" => (vec![], &p[1..]),
                "self" => (here.iter().map(|s| s.to_string()).collect(), &p[1..]),
                _ => {
                    let ups = p.iter().take_while(|s| *s == "super").count();
                    let keep = here.len().saturating_sub(ups);
                    (
                        here[..keep].iter().map(|s| s.to_string()).collect(),
                        &p[ups..],
                    )
                }
            };
            target.extend(rest.iter().cloned());
            resolve(&mods, &via_root, target, m, &mut out);
        }
    }
    out
}

fn resolve(
    mods: &BTreeMap<String, String>,
    via_root: &BTreeMap<String, String>,
    path: Vec<String>,
    from: &str,
    out: &mut BTreeMap<String, BTreeSet<String>>,
) {
    // The deepest module the path names.
    let mut best = String::new();
    for n in 1..=path.len() {
        let cand = path[..n].join("::");
        if mods.contains_key(&cand) {
            best = cand;
        } else {
            break;
        }
    }
    if best.is_empty() {
        if let Some(first) = path.first() {
            if let Some(m) = via_root.get(first) {
                best = m.clone();
            }
        }
    }
    if best != from {
        out.entry(from.to_string()).or_default().insert(best);
    }
}

/// A cycle in `g`, if there is one, as the modules along it.
fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for next in g.get(n).into_iter().flatten() {
            match state.get(next).copied().unwrap_or(0) {
                1 => {
                    let at = stack.iter().position(|s| s == next).unwrap();
                    let mut c = stack[at..].to_vec();
                    c.push(next.clone());
                    return Some(c);
                }
                0 => {
                    if let Some(c) = visit(next, g, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if state.get(n).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(n, g, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

fn crate_sources() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut v = vec![root.join("src")];
    for e in std::fs::read_dir(root.join("crates")).unwrap() {
        let p = e.unwrap().path().join("src");
        if p.is_dir() {
            v.push(p);
        }
    }
    v.sort();
    v
}

#[test]
fn no_crate_has_a_module_cycle() {
    let mut cycles = Vec::new();
    for src in crate_sources() {
        let g = edges(&src);
        if let Some(c) = find_cycle(&g) {
            let name = |m: &String| {
                if m.is_empty() {
                    "(root)".to_string()
                } else {
                    m.clone()
                }
            };
            cycles.push(format!(
                "{}: {}",
                src.display(),
                c.iter().map(name).collect::<Vec<_>>().join(" → ")
            ));
        }
    }
    assert!(cycles.is_empty(), "module cycles:\n{}", cycles.join("\n"));
}

/// The checker itself finds a cycle, through `super`, `crate` and a `use` group, and
/// resolves a name re-exported by the root to its module.
#[test]
fn the_checker_sees_cycles() {
    let dir = std::env::temp_dir().join(format!("goscope-modgraph-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("a")).unwrap();
    std::fs::write(
        dir.join("lib.rs"),
        "mod a;\nmod c;\npub use c::{Thing, Other};\n",
    )
    .unwrap();
    std::fs::write(dir.join("a/mod.rs"), "mod b;\nuse b::X;\n").unwrap();
    std::fs::write(dir.join("a/b.rs"), "use crate::Thing;\npub struct X;\n").unwrap();
    std::fs::write(
        dir.join("c.rs"),
        "// crate::a::b::X in a comment is no use\npub struct Thing;\npub struct Other;\n",
    )
    .unwrap();
    let g = edges(&dir);
    assert_eq!(find_cycle(&g), None, "{g:?}");
    assert!(g["a::b"].contains("c"), "{g:?}");
    assert!(g["a"].contains("a::b"), "{g:?}");
    std::fs::write(
        dir.join("c.rs"),
        "use crate::{a::b::X, a};\npub struct Thing;\npub struct Other;\n",
    )
    .unwrap();
    let g = edges(&dir);
    let c = find_cycle(&g).expect("a cycle");
    assert!(
        c.contains(&"c".to_string()) && c.contains(&"a::b".to_string()),
        "{c:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
