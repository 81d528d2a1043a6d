//! `twitch-codegen`: check the schema, or generate into a directory.
//!
//! ```text
//! twitch-codegen --check [--schema DIR]
//! twitch-codegen --out DIR [--schema DIR]   (DIR/twitch-models/..., DIR/twitch/...)
//! twitch-codegen sync [--schema DIR]     (the generated files kept in the repository: both crates' code, base's Scope, the features, spec/)
//! twitch-codegen audit --docs DIR [--all] [--schema DIR]   (--all: accepted differences too)
//! twitch-codegen learn REPORT.json [--write] [--date YYYY-MM-DD] [--schema DIR]
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
    let mut learn: Option<PathBuf> = None;
    let mut write = false;
    let mut date: Option<String> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "learn" => match args.next() {
                Some(report) => learn = Some(PathBuf::from(report)),
                None => {
                    eprintln!("learn needs the report: twitch-codegen learn REPORT.json");
                    return ExitCode::from(2);
                }
            },
            "--write" => write = true,
            "--date" => date = args.next(),
            "audit" => audit = true,
            "sync" => sync = true,
            "--all" => all = true,
            "--docs" => docs = args.next().map(PathBuf::from),
            "--check" => check = true,
            "--schema" => schema = args.next().map(PathBuf::from).unwrap_or(schema),
            "--out" => out = args.next().map(PathBuf::from),
            "-h" | "--help" => {
                println!(
                    "usage: twitch-codegen --check [--schema DIR]\n       twitch-codegen --out DIR [--schema DIR]\n       twitch-codegen sync [--schema DIR]\n       twitch-codegen audit --docs DIR [--all] [--schema DIR]\n       twitch-codegen learn REPORT.json [--write] [--date YYYY-MM-DD] [--schema DIR]"
                );
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument '{other}'; see --help");
                return ExitCode::from(2);
            }
        }
    }
    if let Some(report) = learn {
        let text = match std::fs::read_to_string(&report) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("cannot read {}: {e}", report.display());
                return ExitCode::FAILURE;
            }
        };
        let date = date.unwrap_or_else(today);
        return match twitch_codegen::learn::learn(&schema, &text, &date) {
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
            Ok(proposal) => {
                print!("{}", proposal.diff());
                for n in &proposal.notes {
                    eprintln!("note: {n}");
                }
                if write {
                    if let Err(e) = proposal.apply(&schema) {
                        eprintln!("cannot write the schema: {e}");
                        return ExitCode::FAILURE;
                    }
                    eprintln!(
                        "wrote {} schema files; review, regenerate and describe the new items",
                        proposal.changes.len()
                    );
                } else if proposal.changes.is_empty() {
                    eprintln!("nothing to propose");
                }
                ExitCode::SUCCESS
            }
        };
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
        let files = twitch_codegen::repository_files(&schema).and_then(|mut files| {
            files.extend(twitch_codegen::spec_files(&schema)?);
            Ok(files)
        });
        return match files {
            Err(diags) => {
                eprintln!("{diags}");
                ExitCode::FAILURE
            }
            Ok(files) => {
                // The repository's root is the schema directory's parent.
                let root = schema.parent().map(PathBuf::from).unwrap_or_default();
                for f in &files {
                    let path = root.join(&f.path);
                    if std::fs::read_to_string(&path).is_ok_and(|old| old == f.contents) {
                        continue;
                    }
                    if let Some(dir) = path.parent()
                        && let Err(e) = std::fs::create_dir_all(dir)
                    {
                        eprintln!("cannot create {}: {e}", dir.display());
                        return ExitCode::FAILURE;
                    }
                    if let Err(e) = std::fs::write(&path, &f.contents) {
                        eprintln!("cannot write {}: {e}", path.display());
                        return ExitCode::FAILURE;
                    }
                    println!("wrote {}", path.display());
                }
                // What the generator no longer writes goes, so the crates hold nothing stale.
                match twitch_codegen::stale_generated_files(&root, &files) {
                    Err(e) => {
                        eprintln!("cannot list the generated files: {e}");
                        return ExitCode::FAILURE;
                    }
                    Ok(stale) => {
                        for rel in stale {
                            let path = root.join(rel);
                            if let Err(e) = std::fs::remove_file(&path) {
                                eprintln!("cannot remove {}: {e}", path.display());
                                return ExitCode::FAILURE;
                            }
                            println!("removed {}", path.display());
                        }
                    }
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
                // `check_all` above has checked the examples already.
                let model = match twitch_codegen::check(&schema) {
                    Ok(model) => model,
                    Err(diags) => {
                        eprintln!("{diags}");
                        return ExitCode::FAILURE;
                    }
                };
                let eps: usize = model.modules.iter().map(|m| m.endpoints.len()).sum();
                let subs: usize = model.modules.iter().map(|m| m.subscriptions.len()).sum();
                println!("schema ok: {eps} endpoints, {subs} subscription types");
            }
            ExitCode::SUCCESS
        }
    }
}

/// Today's date (UTC) as `YYYY-MM-DD`, from the system clock.
fn today() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
