//! `docs/api.md` is the API contract rendered from the OpenAPI document: it must equal what
//! `fluxlab openapi --markdown` prints, so it cannot drift from the server. Regenerate with
//! `cargo run -- openapi --markdown > docs/api.md` (or run this test with
//! `FLUXLAB_UPDATE_DOCS=1`).

use std::process::Command;

#[test]
fn docs_api_md_is_generated_from_the_openapi_document() {
    let out = Command::new(env!("CARGO_BIN_EXE_fluxlab"))
        .args(["openapi", "--markdown"])
        .output()
        .expect("run fluxlab openapi --markdown");
    assert!(out.status.success());
    let generated = String::from_utf8(out.stdout).unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md");
    if std::env::var_os("FLUXLAB_UPDATE_DOCS").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/api.md differs from `fluxlab openapi --markdown`; regenerate it with \
         `cargo run -- openapi --markdown > docs/api.md`"
    );
    // The contract covers what issue 18 added.
    for needle in [
        "### `PATCH /v1/jobs/{id}`",
        "`Idempotency-Key` | header",
        "`tag` | query",
        "`provenance`",
    ] {
        assert!(generated.contains(needle), "docs/api.md lacks {needle}");
    }
}
