//! The crates' layers, checked from their sources: no module imports one
//! that imports it back (no cycle, through any number of modules), and in
//! the runtime no layer imports from one above it (base < http < identity
//! < eventsub). An import is any `crate::...` or `super::...` path outside
//! comments and test modules, resolved to the module it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

/// Every module file under `src`, by module path (`lib.rs` is `[]`).
fn modules(src: &Path) -> BTreeMap<Module, PathBuf> {
    fn walk(src: &Path, dir: &Path, out: &mut BTreeMap<Module, PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(src, &path, out);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut module: Module = rel.iter().map(|c| c.to_string_lossy().into_owned()).collect();
            match module.last().map(String::as_str) {
                Some("lib") if module.len() == 1 => module.clear(),
                // The binary is a crate of its own.
                Some("main") if module.len() == 1 => continue,
                Some("mod") => {
                    module.pop();
                }
                _ => {}
            }
            out.insert(module, path);
        }
    }
    let mut out = BTreeMap::new();
    walk(src, src, &mut out);
    out
}

/// The code of a file without comments and without its test module.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    text.lines()
        .map(|l| match l.find("//") {
            // `//` inside a string (a URL) is code; a comment starts a line or follows code after a space.
            Some(i) if l[..i].trim().is_empty() || l[..i].ends_with(' ') && !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules a module's code names.
fn imports(module: &Module, code: &str, known: &BTreeMap<Module, PathBuf>, is_dir: bool) -> BTreeSet<Module> {
    let mut out = BTreeSet::new();
    let bytes = code.as_bytes();
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(i) = code[from..].find(start).map(|i| from + i) {
            from = i + start.len();
            // A whole word: not `foo_crate::` or `r#super::`. Nor `$crate::`: an
            // exported macro's paths resolve where it is used, through the
            // crate's public paths.
            if i > 0
                && (bytes[i - 1].is_ascii_alphanumeric()
                    || bytes[i - 1] == b'_'
                    || bytes[i - 1] == b':'
                    || bytes[i - 1] == b'$')
            {
                continue;
            }
            let rest: String =
                code[from..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':').collect();
            let mut target: Module = if start == "crate::" {
                Vec::new()
            } else {
                // `super` of `a/b.rs` is `a`; of `a/b/mod.rs` (module `a::b`) it is `a` too.
                let mut parent = module.clone();
                let _ = is_dir;
                parent.pop();
                parent
            };
            let mut resolved = target.clone();
            for seg in rest.split("::").filter(|s| !s.is_empty()) {
                if seg == "super" {
                    target.pop();
                    resolved = target.clone();
                    continue;
                }
                target.push(seg.to_owned());
                if known.contains_key(&target) {
                    resolved = target.clone();
                } else {
                    break;
                }
            }
            if &resolved != module {
                out.insert(resolved);
            }
        }
    }
    out
}

fn graph(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let known = modules(src);
    known
        .iter()
        .map(|(m, path)| {
            let is_dir = path.file_name().is_some_and(|f| f == "mod.rs");
            (m.clone(), imports(m, &code(path), &known, is_dir))
        })
        .collect()
}

fn name(m: &Module) -> String {
    if m.is_empty() { "crate".into() } else { m.join("::") }
}

/// Every cycle's modules (strongly connected components of more than one).
fn cycles(g: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<String>> {
    // Tarjan's algorithm.
    struct T<'a> {
        g: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        on: BTreeSet<&'a Module>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    impl<'a> T<'a> {
        fn visit(&mut self, v: &'a Module) {
            self.index.insert(v, self.next);
            self.low.insert(v, self.next);
            self.next += 1;
            self.stack.push(v);
            self.on.insert(v);
            for w in self.g.get(v).into_iter().flatten() {
                let Some((w, _)) = self.g.get_key_value(w) else { continue };
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let l = self.low[v].min(self.low[w]);
                    self.low.insert(v, l);
                } else if self.on.contains(w) {
                    let l = self.low[v].min(self.index[w]);
                    self.low.insert(v, l);
                }
            }
            if self.low[v] == self.index[v] {
                let mut scc = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on.remove(w);
                    scc.push(name(w));
                    if w == v {
                        break;
                    }
                }
                if scc.len() > 1 {
                    scc.sort();
                    self.out.push(scc);
                }
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v) {
            t.visit(v);
        }
    }
    t.out
}

fn src(krate: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(krate).join("src")
}

#[test]
fn the_runtime_has_no_import_cycle() {
    let g = graph(&src("runtime"));
    assert!(g.len() > 25, "{} modules", g.len());
    let found = cycles(&g);
    assert!(found.is_empty(), "modules that import each other: {found:#?}");
}

#[test]
fn runtime_layers_import_only_downward() {
    let layer = |m: &Module| match m.first().map(String::as_str) {
        Some("base") => 0,
        Some("http") => 1,
        Some("identity") => 2,
        Some("eventsub") => 3,
        // The crate root re-exports every layer.
        None => 4,
        Some(other) => panic!("module {other} is in no layer"),
    };
    let mut upward = Vec::new();
    for (m, targets) in graph(&src("runtime")) {
        for t in targets {
            if layer(&t) > layer(&m) {
                upward.push(format!("{} imports {}", name(&m), name(&t)));
            }
        }
    }
    assert!(upward.is_empty(), "imports from a layer above:\n{}", upward.join("\n"));
}

#[test]
fn the_base_crate_has_no_import_cycle() {
    let g = graph(&src("base"));
    assert!(g.len() > 8, "{} modules", g.len());
    let found = cycles(&g);
    assert!(found.is_empty(), "modules that import each other: {found:#?}");
}

#[test]
fn the_mock_has_no_import_cycle() {
    let g = graph(&src("mock"));
    let found = cycles(&g);
    assert!(found.is_empty(), "modules that import each other: {found:#?}");
}

/// The mock is one router over per-area handlers: an area never imports
/// another, and what they share (state, wire types, delivery) imports no
/// area.
#[test]
fn the_mocks_areas_share_state_but_never_call_each_other() {
    const AREAS: &[&str] = &["control", "helix", "oauth", "oidc", "ws"];
    let area = |m: &Module| m.first().filter(|f| AREAS.contains(&f.as_str())).cloned();
    let mut crossing = Vec::new();
    for (m, targets) in graph(&src("mock")) {
        // The crate root and the router sit above the areas.
        if m.is_empty() || m == ["router"] {
            continue;
        }
        for t in targets {
            match (area(&m), area(&t)) {
                (Some(a), Some(b)) if a != b => crossing.push(format!("area {a} imports area {b} ({})", name(&m))),
                (None, Some(b)) => crossing.push(format!("shared module {} imports area {b}", name(&m))),
                _ => {}
            }
        }
    }
    assert!(crossing.is_empty(), "{}", crossing.join("\n"));
}

/// The checker itself: a cycle through three modules is found.
#[test]
fn the_checker_finds_cycles() {
    let m = |s: &str| s.split("::").map(str::to_owned).collect::<Module>();
    let g: BTreeMap<Module, BTreeSet<Module>> =
        [(m("a"), [m("b")].into()), (m("b"), [m("c")].into()), (m("c"), [m("a")].into()), (m("d"), [m("a")].into())]
            .into();
    assert_eq!(cycles(&g), [vec!["a".to_owned(), "b".into(), "c".into()]]);
}
