//! Fuzzing the parsers of network input and of the schema (see FUZZING.md
//! at the repository root). Run on nightly with cargo-fuzz.

pub mod seeds;
pub mod targets;
