//! A throwaway PostgreSQL for tests: `initdb` into a temporary directory,
//! started on 127.0.0.1 with a free port and its socket in that directory,
//! stopped and deleted when dropped.
//!
//! The binaries are looked for in `$TWITCH_TEST_PG_BIN`, then in Debian's
//! `/usr/lib/postgresql/<version>/bin` (the newest), then on `PATH`. When
//! there are none, [`Postgres::start`] panics saying PostgreSQL is not
//! installed: the test fails, it does not pass. `initdb` refuses to run as
//! root, so as root the server runs as the `postgres` user (Debian's
//! package creates it), or `nobody`, through `runuser`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    run_as: Option<String>,
    pub port: u16,
}

fn find_bin() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("TWITCH_TEST_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|d| d.join("initdb").exists() && d.join("pg_ctl").exists())
}

fn output(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("could not run {cmd:?}: {e}"))
}

fn id(args: &[&str]) -> Option<String> {
    let out = Command::new("id").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

impl Postgres {
    /// Start one; panics (failing the test) with a clear message when
    /// PostgreSQL is not installed or does not start.
    pub fn start() -> Postgres {
        Self::start_with(false)
    }

    /// Start one that takes TLS connections only, with a self-signed
    /// certificate for `localhost` ([`Postgres::certificate`]; made by the
    /// `openssl` tool, which Debian's PostgreSQL packages depend on).
    pub fn start_tls() -> Postgres {
        Self::start_with(true)
    }

    fn start_with(tls: bool) -> Postgres {
        let bin = find_bin().unwrap_or_else(|| {
            panic!(
                "PostgreSQL is not installed: no initdb in $TWITCH_TEST_PG_BIN, /usr/lib/postgresql/*/bin or PATH. \
                 Install it (Debian: apt-get install postgresql; .ci/run does) to run the PostgreSQL tests."
            )
        });
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "twitch-pg-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sock")).expect("create the PostgreSQL test directory");
        let run_as = if id(&["-u"]).as_deref() == Some("0") {
            let user = if id(&["-u", "postgres"]).is_some() { "postgres" } else { "nobody" };
            let (uid, gid) = (id(&["-u", user]).unwrap(), id(&["-g", user]).unwrap());
            for d in [dir.clone(), dir.join("sock")] {
                std::os::unix::fs::chown(&d, uid.parse().ok(), gid.parse().ok()).expect("chown the test directory");
            }
            Some(user.to_owned())
        } else {
            None
        };
        let mut pg = Postgres { dir, bin, run_as, port: 0 };
        let data = pg.dir.join("data");
        let init = output(pg.command("initdb").arg("-D").arg(&data).args([
            "-U",
            "twitch",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        ]));
        assert!(init.status.success(), "initdb failed: {}", String::from_utf8_lossy(&init.stderr));
        let mut ssl = String::new();
        if tls {
            let (key, cert) = (pg.dir.join("server.key"), pg.dir.join("server.crt"));
            let made = Command::new("openssl")
                .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"])
                .args(["-addext", "subjectAltName=DNS:localhost", "-addext", "basicConstraints=critical,CA:FALSE"])
                .arg("-keyout")
                .arg(&key)
                .arg("-out")
                .arg(&cert)
                .output()
                .unwrap_or_else(|e| {
                    panic!("the openssl tool is needed for the TLS test (apt-get install openssl): {e}")
                });
            assert!(made.status.success(), "openssl failed: {}", String::from_utf8_lossy(&made.stderr));
            let chowned = match &pg.run_as {
                Some(user) => output(Command::new("chown").arg(user).arg(&key).arg(&cert)).status.success(),
                None => true,
            };
            assert!(chowned, "chown the server key");
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
            // TLS connections only: a plain one is refused.
            std::fs::write(data.join("pg_hba.conf"), "local all all trust\nhostssl all all 127.0.0.1/32 trust\n")
                .unwrap();
            ssl = format!(" -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}", cert.display(), key.display());
        }
        // A free port can be taken by someone else before the server binds
        // it: try a few.
        let mut last = String::new();
        for _ in 0..5 {
            pg.port = free_port();
            let opts = format!("-h 127.0.0.1 -p {} -k {} -F{ssl}", pg.port, pg.dir.join("sock").display());
            let out = output(
                pg.command("pg_ctl")
                    .arg("-D")
                    .arg(&data)
                    .arg("-l")
                    .arg(pg.dir.join("log"))
                    .args(["-w", "-t", "60", "-o", &opts, "start"]),
            );
            if out.status.success() {
                return pg;
            }
            last = std::fs::read_to_string(pg.dir.join("log")).unwrap_or_default();
        }
        panic!("PostgreSQL did not start: {last}");
    }

    fn command(&self, tool: &str) -> Command {
        let path = self.bin.join(tool);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(path);
                c
            }
            None => Command::new(path),
        }
    }

    /// A connection string for the `postgres` database as `twitch`.
    pub fn params(&self) -> String {
        format!("host=127.0.0.1 port={} user=twitch dbname=postgres sslmode=disable", self.port)
    }

    /// The server's certificate (PEM), for [`Postgres::start_tls`].
    pub fn certificate(&self) -> PathBuf {
        self.dir.join("server.crt")
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = self.command("pg_ctl").arg("-D").arg(&data).args(["-m", "immediate", "-w", "stop"]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1:0");
    l.local_addr().expect("local address").port()
}
