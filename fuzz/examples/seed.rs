//! Write the seed corpus: `cargo run --manifest-path fuzz/Cargo.toml --example seed`.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut written = 0;
    for (target, input) in twitch_fuzz::seeds::all(&root.join("../schema")) {
        let dir = root.join("corpus").join(target);
        std::fs::create_dir_all(&dir)?;
        // Named by content, so writing twice changes nothing.
        let name = format!("seed-{:016x}", fnv1a(&input));
        std::fs::write(dir.join(name), input)?;
        written += 1;
    }
    println!("{written} seeds written under {}", root.join("corpus").display());
    Ok(())
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}
