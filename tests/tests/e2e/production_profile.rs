//! The production profile: no introspection and no GraphiQL unless enabled, and `/metrics` only on its own
//! listener. (Its refusals at start-up are `tgos_api::config` unit tests.)

use reqwest::header::ACCEPT;
use serde_json::json;
use tgos_tests::{TestOptions, backend_tests};

fn production() -> TestOptions {
    TestOptions {
        production: true,
        ..TestOptions::default()
    }
}

backend_tests!(
    production_refuses_introspection_and_serves_no_graphiql,
    options = production(),
    |app| {
        let schema = app.gql(None, "{ __schema { queryType { name } } }", json!({})).await?;
        assert!(
            schema
                .body
                .pointer("/data/__schema")
                .is_none_or(serde_json::Value::is_null),
            "introspection answered: {:?}",
            schema.body
        );
        assert_eq!(schema.code().as_deref(), Some("FORBIDDEN"), "{:?}", schema.body);
        let named_type = app.gql(None, "{ __type(name: \"Query\") { name } }", json!({})).await?;
        assert!(
            named_type
                .body
                .pointer("/data/__type")
                .is_none_or(serde_json::Value::is_null),
            "{:?}",
            named_type.body
        );
        assert_eq!(named_type.code().as_deref(), Some("FORBIDDEN"), "{:?}", named_type.body);
        // Queries still run.
        let plain = app.gql(None, "{ __typename }", json!({})).await?;
        assert_eq!(
            plain.body.pointer("/data/__typename"),
            Some(&json!("Query")),
            "{:?}",
            plain.body
        );

        let page = app
            .http()
            .get(app.url("/graphql"))
            .header(ACCEPT, "text/html")
            .send()
            .await?;
        assert!(
            !page.text().await?.contains("GraphiQL"),
            "no GraphiQL page in production"
        );
        let asset = app
            .http()
            .get(app.url("/graphiql/assets/graphiql-page.js"))
            .send()
            .await?;
        assert_eq!(asset.status(), 404);
        Ok(())
    }
);

backend_tests!(
    production_serves_metrics_only_on_their_own_port,
    options = production(),
    |app| {
        let main = app.http().get(app.url("/metrics")).send().await?;
        assert_eq!(main.status(), 404, "no /metrics on the main port");
        let metrics_addr = app.metrics_addr.ok_or_else(|| anyhow::anyhow!("no metrics listener"))?;
        let own = app.http().get(format!("http://{metrics_addr}/metrics")).send().await?;
        assert_eq!(own.status(), 200);
        assert!(own.text().await?.contains("tgos_db_statements_total"));
        let graphql = app.http().get(format!("http://{metrics_addr}/graphql")).send().await?;
        assert_eq!(graphql.status(), 404, "the metrics port serves metrics alone");
        Ok(())
    }
);

backend_tests!(development_keeps_introspection_and_metrics_on_the_main_port, |app| {
    let schema = app.gql(None, "{ __schema { queryType { name } } }", json!({})).await?;
    assert_eq!(
        schema.body.pointer("/data/__schema/queryType/name"),
        Some(&json!("Query"))
    );
    let main = app.http().get(app.url("/metrics")).send().await?;
    assert_eq!(main.status(), 200);
    assert!(app.metrics_addr.is_none());
    Ok(())
});
