//! GraphiQL, served whole from the binary: the page on `GET /graphql` (for browsers, when `graphql.graphiql`
//! is on) and its scripts and styles under `/graphiql/assets/`.
//!
//! Rules:
//! - Nothing is loaded from another origin: React, ReactDOM, graphql-ws and GraphiQL are the npm packages'
//!   files at pinned versions (`assets/graphiql/README.md`), compiled in. So the page's policy is
//!   [`PAGE_POLICY`] (`default-src 'self'`) and GraphiQL works offline and behind a firewall.
//! - A vendored file's name carries its version, so it is cached for a year as immutable; the page and its
//!   own script and style (which change with this server) are revalidated on every load.
//! - An asset is served when GraphiQL is on, and only then; an unknown name is 404.

use poem::http::{StatusCode, header};
use poem::web::{Data, Path};
use poem::{IntoResponse as _, Response, handler};

use crate::app::AppState;

/// The page's Content-Security-Policy: only this origin, no inline script, no plugins, no framing. Fonts
/// are the data: URLs inside GraphiQL's stylesheet; WebSockets (`/graphql/ws`) are this origin too.
pub const PAGE_POLICY: &str = "default-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; \
                               form-action 'self'; frame-ancestors 'none'";

/// GraphiQL, with a fetcher that sends subscriptions over `/graphql/ws` carrying the header editor's
/// `Authorization` in `connection_init` (the stock page sends no credentials there).
const PAGE: &str = include_str!("assets/graphiql.html");

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// One file under `/graphiql/assets/`.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    cache: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "react-18.3.1.production.min.js",
        content_type: JAVASCRIPT,
        cache: IMMUTABLE,
        body: include_bytes!("assets/graphiql/react-18.3.1.production.min.js"),
    },
    Asset {
        name: "react-dom-18.3.1.production.min.js",
        content_type: JAVASCRIPT,
        cache: IMMUTABLE,
        body: include_bytes!("assets/graphiql/react-dom-18.3.1.production.min.js"),
    },
    Asset {
        name: "graphql-ws-5.16.0.min.js",
        content_type: JAVASCRIPT,
        cache: IMMUTABLE,
        body: include_bytes!("assets/graphiql/graphql-ws-5.16.0.min.js"),
    },
    Asset {
        name: "graphiql-4.1.2.min.js",
        content_type: JAVASCRIPT,
        cache: IMMUTABLE,
        body: include_bytes!("assets/graphiql/graphiql-4.1.2.min.js"),
    },
    Asset {
        name: "graphiql-4.1.2.min.css",
        content_type: CSS,
        cache: IMMUTABLE,
        body: include_bytes!("assets/graphiql/graphiql-4.1.2.min.css"),
    },
    Asset {
        name: "graphiql-page.js",
        content_type: JAVASCRIPT,
        cache: REVALIDATE,
        body: include_bytes!("assets/graphiql/graphiql-page.js"),
    },
    Asset {
        name: "graphiql-page.css",
        content_type: CSS,
        cache: REVALIDATE,
        body: include_bytes!("assets/graphiql/graphiql-page.css"),
    },
];

/// The GraphiQL page, with its policy.
pub fn page() -> Response {
    Response::builder()
        .content_type("text/html; charset=utf-8")
        .header(header::CONTENT_SECURITY_POLICY, PAGE_POLICY)
        .header(header::CACHE_CONTROL, REVALIDATE)
        .body(PAGE)
}

/// `GET /graphiql/assets/:name`.
#[handler]
pub fn asset(Path(name): Path<String>, state: Data<&AppState>) -> Response {
    let found = ASSETS.iter().find(|asset| asset.name == name);
    match found {
        Some(asset) if state.settings.graphql.graphiql => Response::builder()
            .content_type(asset.content_type)
            .header(header::CACHE_CONTROL, asset.cache)
            .body(asset.body),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_assets_this_module_serves() {
        let mut referenced = 0;
        for part in PAGE.split("/graphiql/assets/").skip(1) {
            let name = part.split('"').next().unwrap_or_default();
            assert!(
                ASSETS.iter().any(|served| served.name == name),
                "the page loads {name}, which is not served"
            );
            referenced += 1;
        }
        assert_eq!(referenced, ASSETS.len(), "every asset is used by the page");
        assert!(!PAGE.contains("https://"), "no other origin");
        assert!(!PAGE.contains("<script>"), "no inline script: the policy allows none");
        assert!(!PAGE.contains("<style"), "no inline style");
    }
}
