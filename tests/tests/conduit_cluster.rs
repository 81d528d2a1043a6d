//! The conduit cluster example end to end: the in-process mock, a throwaway
//! PostgreSQL, three worker processes (this test binary started again in
//! worker mode) claiming six shards of one conduit and sharing the app
//! token through the `PostgresStore`; one worker killed with SIGKILL and
//! restarted. Without PostgreSQL installed the test fails saying so.

#[path = "support/postgres.rs"]
mod pg;

#[allow(dead_code)] // its `main` and the benchmark are for the command line
#[path = "../../generated/examples/conduit_cluster.rs"]
mod cluster;

use std::collections::BTreeSet;
use std::time::Duration;

use pg::Postgres;

const WORKER_TEST: &str = "cluster_worker";

/// One worker of the cluster, started by the test below with the
/// example's environment.
#[test]
#[ignore = "a worker process of the conduit cluster test, started by it"]
fn cluster_worker() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(cluster::worker()).expect("the worker ran and stopped cleanly");
}

fn launcher() -> cluster::Launcher {
    let me = std::env::current_exe().expect("the test binary");
    cluster::Launcher::new(me, ["--ignored", "--exact", WORKER_TEST, "--nocapture", "--test-threads", "1"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_share_a_conduit_survive_a_kill_and_take_its_shards_back() {
    let pg = Postgres::start();
    let options = cluster::Options { processes: 3, shards: 6, events: 24 };
    let report = tokio::time::timeout(Duration::from_secs(240), cluster::deploy(&launcher(), &pg.params(), &options))
        .await
        .expect("the deployment finished in time")
        .expect("the deployment ran");
    println!("{report}");

    // Rows: workers 0, 1, 2 as started (0 was killed), then 0 restarted.
    let [killed, one, two, restarted] = &report.workers[..] else { panic!("four worker rows: {report:?}") };
    let pids: BTreeSet<u32> = report.workers.iter().map(|w| w.pid).collect();
    assert_eq!(pids.len(), 4, "four processes: {report}");

    // Each ran its share (two of six), no shard twice, all six covered.
    let mut all: Vec<u32> = [killed, one, two].iter().flat_map(|w| w.shards.clone()).collect();
    all.sort();
    assert_eq!(all, (0..6).collect::<Vec<_>>(), "{report}");
    for w in [killed, one, two, restarted] {
        assert_eq!(w.shards.len(), 2, "{} runs two shards: {report}", w.label);
    }
    // The restart claimed the only free shards: the ones the killed worker left.
    assert_eq!(report.killed_shards, killed.shards);
    assert_eq!(report.restarted_shards, killed.shards, "{report}");
    assert_eq!(restarted.shards, killed.shards);

    let phase = |name: &str| report.phases.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("phase {name}"));
    let idx = |name: &str| cluster::PHASES.iter().position(|p| *p == name).unwrap();

    // With every worker up, every event arrived exactly once.
    let up = phase("all up");
    assert_eq!((up.triggered, up.sent, up.once, up.duplicated, up.missing), (24, 24, 24, 0, 0), "{report}");
    let (a, b, c) = (killed.received[idx("all up")], one.received[idx("all up")], two.received[idx("all up")]);
    assert_eq!(a + b + c, 24);
    // Round-robin over six shards: each worker's two shards had their turns.
    assert!(a > 0 && b > 0 && c > 0, "every worker received some: {report}");
    assert_eq!(restarted.received[idx("all up")], 0);

    // Triggered right after the kill: what the mock still sent to the dead
    // sockets is lost, the rest arrived once, nothing twice.
    let kill = phase("at the kill");
    assert_eq!(kill.once + kill.missing, kill.triggered, "{report}");
    assert_eq!(kill.duplicated, 0);
    assert_eq!(killed.received[idx("at the kill")], 0, "a killed process receives nothing");

    // Once the mock disabled its shards, the two others got everything.
    let down = phase("one down");
    assert_eq!((down.triggered, down.sent, down.once, down.duplicated, down.missing), (24, 24, 24, 0, 0), "{report}");
    assert_eq!(one.received[idx("one down")] + two.received[idx("one down")], 24);
    assert_eq!(killed.received[idx("one down")] + restarted.received[idx("one down")], 0);

    // After the restart all three share the events again.
    let back = phase("restarted");
    assert_eq!((back.triggered, back.sent, back.once, back.duplicated, back.missing), (24, 24, 24, 0, 0), "{report}");
    assert!(restarted.received[idx("restarted")] > 0, "the restarted worker receives again: {report}");
    assert_eq!(
        one.received[idx("restarted")] + two.received[idx("restarted")] + restarted.received[idx("restarted")],
        24
    );

    // One app token for the whole cluster: the store saved it once (each
    // client-credentials fetch is saved), and every worker, the restarted
    // one too, holds that stored version.
    assert_eq!(report.app_token_version, Some(1), "{report}");
    for w in [killed, one, two, restarted] {
        assert_eq!(w.token, "1 same", "{}'s app token: {report}", w.label);
        assert!(w.rss_kib.is_some_and(|k| k > 0), "{}'s memory was read", w.label);
    }
}

#[test]
fn the_command_line_is_checked() {
    let parse = |args: &[&str]| cluster::Cli::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    match parse(&[]).expect("defaults") {
        cluster::Cli::Deploy(o) => assert_eq!((o.processes, o.shards, o.events), (3, 6, 20)),
        other => panic!("unexpected {other:?}"),
    }
    match parse(&["--processes", "4", "--shards", "5"]).expect("4 on 5") {
        cluster::Cli::Deploy(o) => assert_eq!((o.processes, o.shards), (4, 5)),
        other => panic!("unexpected {other:?}"),
    }
    match parse(&["--bench"]).expect("bench defaults") {
        cluster::Cli::Bench(b) => assert_eq!((b.processes, b.shards, b.events), (vec![1, 2, 4], 4, 500_000)),
        other => panic!("unexpected {other:?}"),
    }
    match parse(&["--bench", "--bench-processes", "1,2", "--bench-events", "500"]).expect("bench") {
        cluster::Cli::Bench(b) => assert_eq!((b.processes, b.shards, b.events), (vec![1, 2], 4, 500)),
        other => panic!("unexpected {other:?}"),
    }
    // S/K shards each, the first S mod K one more: no fixed ids, only counts.
    assert_eq!(cluster::claims(4, 5), [2, 1, 1, 1]);
    assert_eq!(cluster::claims(3, 6), [2, 2, 2]);
    for bad in [
        &["--processes", "1"][..],
        &["--processes", "3", "--shards", "2"],
        &["--bench", "--bench-processes", "8"],
        &["--frobnicate"],
        &["--shards"],
    ] {
        assert!(parse(bad).is_err(), "{bad:?} is refused");
    }
}
