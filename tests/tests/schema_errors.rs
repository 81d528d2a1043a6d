//! Invalid schemas: each fixture under `fixtures/invalid/` must fail with
//! diagnostics that name the file, the line, the item and the problem.

use std::path::Path;

fn diagnostics(case: &str) -> String {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/invalid")).join(case);
    match twitch_codegen::generate(&dir) {
        Ok(_) => panic!("fixture {case} was accepted"),
        Err(d) => d.to_string(),
    }
}

macro_rules! fixture {
    ($name:ident) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(stringify!($name), diagnostics(stringify!($name)));
        }
    };
}

fixture!(unknown_key);
fixture!(duplicate_id);
fixture!(unknown_type);
fixture!(bad_scope);
fixture!(broken_yaml);
fixture!(duplicate_key);
fixture!(keyword_and_pagination);
fixture!(cross_area);
fixture!(bad_identifiers);
fixture!(bad_items_lookups_and_ids);
fixture!(bad_union);
fixture!(decision_entry);
fixture!(lifecycle_and_tokens);
