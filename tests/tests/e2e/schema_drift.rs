//! The checked-in `schema.graphql` is the integrators' contract: it must equal what the server serves.

#[test]
fn schema_graphql_matches_the_served_schema() -> anyhow::Result<()> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
    let checked_in = std::fs::read_to_string(&path)?;
    let served = tgos_api::graphql::sdl();
    assert!(
        checked_in == served,
        "schema.graphql is out of date with the server's schema.\n\
         Regenerate it with:\n\n    cargo run --bin tgos -- schema > schema.graphql\n\n\
         then review the diff: renaming or removing a field breaks integrators (API.md)."
    );
    Ok(())
}
