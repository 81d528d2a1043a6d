#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| twitch_fuzz::targets::ratelimit(data));
