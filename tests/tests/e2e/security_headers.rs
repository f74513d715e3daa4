//! Headers on every response, and GraphiQL served whole from the server under a `default-src 'self'` policy.

use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use tgos_tests::backend_tests;

fn header(response: &reqwest::Response, name: impl reqwest::header::AsHeaderName) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

backend_tests!(every_response_says_nosniff_and_no_referrer, |app| {
    let answers = [
        app.http()
            .post(app.url("/graphql"))
            .json(&serde_json::json!({ "query": "{ __typename }" }))
            .send()
            .await?,
        app.http()
            .post(app.url("/graphql"))
            .header(CONTENT_TYPE, "application/json")
            .body("{ not json")
            .send()
            .await?,
        app.http().get(app.url("/healthz")).send().await?,
        app.http().get(app.url("/no/such/page")).send().await?,
        app.http()
            .get(app.url("/graphiql/assets/no-such-file.js"))
            .send()
            .await?,
        app.http()
            .get(app.url("/graphql"))
            .header(ACCEPT, "text/html")
            .send()
            .await?,
    ];
    for response in &answers {
        let what = response.url().to_string();
        assert_eq!(header(response, "x-content-type-options"), "nosniff", "{what}");
        assert_eq!(header(response, "referrer-policy"), "no-referrer", "{what}");
    }
    assert_eq!(answers[3].status(), 404);
    assert_eq!(answers[4].status(), 404);
    Ok(())
});

backend_tests!(graphiql_is_served_from_the_server_under_a_self_only_policy, |app| {
    let page = app
        .http()
        .get(app.url("/graphql"))
        .header(ACCEPT, "text/html")
        .send()
        .await?;
    assert_eq!(page.status(), 200);
    let policy = header(&page, CONTENT_SECURITY_POLICY);
    assert!(policy.starts_with("default-src 'self';"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(!policy.contains("unsafe"), "{policy}");
    let html = page.text().await?;
    assert!(
        !html.contains("https://") && !html.contains("http://"),
        "nothing from another origin: {html}"
    );
    let assets: Vec<&str> = html
        .split("\"/graphiql/assets/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert_eq!(
        assets.len(),
        7,
        "React, ReactDOM, graphql-ws, GraphiQL's script and style, the page's own: {assets:?}"
    );
    for name in assets {
        let asset = app
            .http()
            .get(app.url(&format!("/graphiql/assets/{name}")))
            .send()
            .await?;
        assert_eq!(asset.status(), 200, "{name}");
        let content_type = header(&asset, CONTENT_TYPE);
        let expected = if name.ends_with(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert!(content_type.starts_with(expected), "{name}: {content_type}");
        let cache = header(&asset, CACHE_CONTROL);
        if name.contains("-page.") {
            assert_eq!(cache, "no-cache", "{name}: the page's own files change with the server");
        } else {
            assert!(
                cache.contains("immutable") && cache.contains("max-age=31536000"),
                "{name}: {cache}"
            );
        }
        assert!(!asset.bytes().await?.is_empty(), "{name}");
    }
    Ok(())
});
