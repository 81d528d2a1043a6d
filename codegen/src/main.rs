//! `twitch-codegen`: check the schema, or generate into a directory.
//!
//! ```text
//! twitch-codegen --check [--schema DIR]
//! twitch-codegen --out DIR [--schema DIR]
//! twitch-codegen sync [--schema DIR]     (the generated files kept in the repository)
//! twitch-codegen audit --docs DIR [--all] [--schema DIR]   (--all: accepted differences too)
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    // `schema/` here (the repository's root), else the one beside this crate's sources.
    let mut schema = match PathBuf::from("schema") {
        here if here.is_dir() => here,
        _ => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../schema")),
    };
    let mut out: Option<PathBuf> = None;
    let mut check = false;
    let mut docs: Option<PathBuf> = None;
    let mut audit = false;
    let mut all = false;
    let mut sync = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "audit" => audit = true,
            "sync" => sync = true,
            "--all" => all = true,
            "--docs" => docs = args.next().map(PathBuf::from),
            "--check" => check = true,
            "--schema" => schema = args.next().map(PathBuf::from).unwrap_or(schema),
            "--out" => out = args.next().map(PathBuf::from),
            "-h" | "--help" => {
                println!(
                    "usage: twitch-codegen --check [--schema DIR]\n       twitch-codegen --out DIR [--schema DIR]\n       twitch-codegen sync [--schema DIR]\n       twitch-codegen audit --docs DIR [--all] [--schema DIR]"
                );
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument '{other}'; see --help");
                return ExitCode::from(2);
            }
        }
    }
    if audit {
        let Some(docs) = docs else {
            eprintln!(
                "audit needs --docs DIR: a folder with reference.html, eventsub-subscription-types.html and eventsub-reference.html"
            );
            return ExitCode::from(2);
        };
        return match twitch_codegen::audit::audit(&schema, &docs) {
            Err(d) => {
                eprintln!("{d}");
                ExitCode::FAILURE
            }
            Ok(report) => {
                if all {
                    println!("{report}");
                } else {
                    for d in report.unrecorded() {
                        println!("{d}");
                    }
                    println!("{}", report.summary());
                }
                if report.unrecorded().next().is_some() { ExitCode::FAILURE } else { ExitCode::SUCCESS }
            }
        };
    }
    if sync {
        return match twitch_codegen::generate(&schema) {
            Err(diags) => {
                eprintln!("{diags}");
                ExitCode::FAILURE
            }
            Ok(generated) => {
                // The repository's root is the schema directory's parent.
                let root = schema.parent().map(PathBuf::from).unwrap_or_default();
                for f in &generated.repository_files {
                    let path = root.join(&f.path);
                    if std::fs::read_to_string(&path).is_ok_and(|old| old == f.contents) {
                        continue;
                    }
                    if let Err(e) = std::fs::write(&path, &f.contents) {
                        eprintln!("cannot write {}: {e}", path.display());
                        return ExitCode::FAILURE;
                    }
                    println!("wrote {}", path.display());
                }
                ExitCode::SUCCESS
            }
        };
    }
    if !check && out.is_none() {
        check = true;
    }
    if check {
        let diags = twitch_codegen::check_all(&schema);
        if !diags.is_empty() {
            eprintln!("{diags}");
            return ExitCode::FAILURE;
        }
    }
    match twitch_codegen::generate(&schema) {
        Err(diags) => {
            eprintln!("{diags}");
            ExitCode::FAILURE
        }
        Ok(generated) => {
            if let Some(dir) = out {
                match twitch_codegen::write::write(&generated, &dir) {
                    Ok(n) => println!("wrote {n} of {} files to {}", generated.files.len(), dir.display()),
                    Err(e) => {
                        eprintln!("cannot write to {}: {e}", dir.display());
                        return ExitCode::FAILURE;
                    }
                }
            }
            if check {
                let examples =
                    twitch_codegen::check(&schema).map(|s| twitch_codegen::examples_check::check_examples(&s));
                if let Ok(d) = examples
                    && !d.is_empty()
                {
                    eprintln!("{d}");
                    return ExitCode::FAILURE;
                }
                let eps = generated.items.iter().filter(|i| i.kind == "endpoint").count();
                let subs = generated.items.iter().filter(|i| i.kind == "subscription").count();
                println!("schema ok: {eps} endpoints, {subs} subscription types");
            }
            ExitCode::SUCCESS
        }
    }
}
