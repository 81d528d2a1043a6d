//! The guide (`twitch::guide`, the chapters in generated/guide/) stays true
//! to the code. Its Rust blocks are doctests that `cargo test` compiles and
//! runs against an in-process mock, and rustdoc (warnings denied in CI)
//! resolves its intra-doc links. What neither would notice is checked here:
//!
//! - every chapter file is part of the guide module (bot/guide.md is
//!   `twitch_bot::guide`, mock/README.md `twitch_mock::guide`);
//! - a crate path written in running text (`` `twitch::meta` ``) is a
//!   link, so that rustdoc fails when the item it names is gone;
//! - no block is `ignore`d, and a block that only compiles (`no_run`)
//!   says why in its first line.

use std::path::{Path, PathBuf};

fn guide_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../generated/guide")
}

/// The `twitch` crate's chapters, by file name.
fn chapters() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(guide_dir())
        .expect("generated/guide")
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    out.sort();
    out
}

/// Every Markdown page of the guides: the `twitch` crate's chapters,
/// `twitch-bot`'s guide (bot/guide.md) and `twitch-mock`'s (its README).
fn pages() -> Vec<(String, String)> {
    let bot = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bot/guide.md");
    let mut out: Vec<(String, String)> = chapters().into_iter().filter(|(n, _)| n.ends_with(".md")).collect();
    out.push(("bot/guide.md".to_owned(), std::fs::read_to_string(bot).expect("bot/guide.md")));
    let mock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mock/README.md");
    out.push(("mock/README.md".to_owned(), std::fs::read_to_string(mock).expect("mock/README.md")));
    out
}

#[test]
fn every_chapter_is_in_the_guide_module() {
    let module = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../generated/src/guide.rs"))
        .expect("generated/src/guide.rs");
    for (name, _) in chapters() {
        assert!(
            module.contains(&format!("include_str!(\"../guide/{name}\")")),
            "generated/guide/{name} is not included by generated/src/guide.rs"
        );
    }
    let bot = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../bot/src/lib.rs")).unwrap();
    assert!(bot.contains("include_str!(\"../guide.md\")"), "bot/guide.md is not included by bot/src/lib.rs");
    let mock = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../mock/src/lib.rs")).unwrap();
    assert!(mock.contains("include_str!(\"../README.md\")"), "mock/README.md is not included by mock/src/lib.rs");
}

/// The text outside fenced code blocks, with each fence's info string and
/// first line: (prose lines, blocks).
fn split(text: &str) -> (Vec<&str>, Vec<(String, Vec<&str>)>) {
    let (mut prose, mut blocks) = (Vec::new(), Vec::new());
    let mut open: Option<(String, Vec<&str>)> = None;
    for line in text.lines() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut open, fence) {
            (None, Some(info)) => open = Some((info.trim().to_owned(), Vec::new())),
            (Some(_), Some(_)) => blocks.push(open.take().unwrap()),
            (Some((_, body)), None) => body.push(line),
            (None, None) => prose.push(line),
        }
    }
    assert!(open.is_none(), "a code block is not closed");
    (prose, blocks)
}

/// Code spans in running text that name an item by a crate path and are
/// not the text of a link.
fn unlinked_paths(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('`') else { break };
        let span = &after[..end];
        // `[`path`](target)` and the shortcut `[`path`]` are both links.
        let linked = rest[..start].ends_with('[') && after[end + 1..].starts_with(']');
        let path = ["twitch::", "twitch_bot::", "twitch_mock::", "crate::"].iter().any(|p| span.starts_with(p))
            && span.chars().all(|c| c.is_alphanumeric() || c == '_' || c == ':');
        if path && !linked {
            out.push(span.to_owned());
        }
        rest = &after[end + 1..];
    }
    out
}

#[test]
fn crate_paths_in_the_text_are_links_that_rustdoc_checks() {
    let mut unlinked = Vec::new();
    for (name, text) in &pages() {
        let (prose, _) = split(text);
        for line in prose {
            for path in unlinked_paths(line) {
                unlinked.push(format!("{name}: `{path}`"));
            }
        }
    }
    assert!(unlinked.is_empty(), "write these as intra-doc links ([`path`](path)):\n{}", unlinked.join("\n"));
}

#[test]
fn the_checker_finds_an_unlinked_path() {
    assert_eq!(unlinked_paths("see `twitch::meta::endpoints` for more"), ["twitch::meta::endpoints"]);
    assert!(unlinked_paths("see [`twitch::meta`](crate::meta), [`crate::ids`] and `cargo test`").is_empty());
}

#[test]
fn no_block_is_ignored_and_compile_only_blocks_say_why() {
    let mut problems = Vec::new();
    let mut rust_blocks = 0;
    for (name, text) in &pages() {
        let (_, blocks) = split(text);
        for (info, body) in blocks {
            let rust = info.is_empty() || info.split(',').any(|t| t == "rust");
            if !rust {
                continue;
            }
            rust_blocks += 1;
            if info.contains("ignore") {
                problems.push(format!("{name}: a block is `ignore`d: {info}"));
            }
            if info.contains("no_run") && !body.first().is_some_and(|l| l.starts_with("// Compiled, not run:")) {
                problems.push(format!("{name}: a `no_run` block does not start with `// Compiled, not run: <why>`"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(rust_blocks >= 25, "the guide has {rust_blocks} Rust blocks: was a chapter emptied?");
}
