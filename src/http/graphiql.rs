//! GraphiQL, served from the hub itself so it works with no internet access.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub const PAGE: &str = include_str!("../../assets/graphiql/index.html");

const ASSETS: [(&str, &str, &[u8]); 4] = [
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    ),
];

/// `GET /graphql/assets/{file}`. The files are versioned with the binary; a day of
/// caching is safe.
pub async fn asset(Path(file): Path<String>) -> Response {
    embedded_asset(&ASSETS, &file, "public, max-age=86400")
}

/// One of `assets` (name, content type, bytes) by name, or 404.
pub fn embedded_asset(
    assets: &[(&str, &'static str, &'static [u8])],
    file: &str,
    cache_control: &'static str,
) -> Response {
    match assets.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, bytes)) => {
            let mut response = bytes.into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static(cache_control),
            );
            response
        }
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}
