//! The committed header is exactly what cbindgen makes from this source
//! (`shared/STYLE.md`, rule 11). A stale header fails here; regenerate it
//! with `STRONGROOM_BLESS_HEADER=1 cargo test -p strongroom-ffi --test header`.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;

#[test]
fn the_committed_header_is_the_generated_one() {
    let generated =
        std::fs::read_to_string(Path::new(env!("OUT_DIR")).join("strongroom.h")).unwrap();
    let committed_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../include/strongroom.h");
    if std::env::var_os("STRONGROOM_BLESS_HEADER").is_some() {
        std::fs::create_dir_all(committed_path.parent().unwrap()).unwrap();
        std::fs::write(&committed_path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    let functions = generated.matches("strongroom_result strongroom_").count();
    println!(
        "header: {} lines, {functions} functions returning a result",
        generated.lines().count()
    );
    if committed != generated {
        panic!(
            "include/strongroom.h is stale: regenerate it with \
             STRONGROOM_BLESS_HEADER=1 cargo test -p strongroom-ffi --test header"
        );
    }
}
