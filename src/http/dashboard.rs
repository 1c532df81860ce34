//! The dashboard at `/`: a static page that draws everything from the public GraphQL
//! API. Its files are compiled into the binary, so it works with no internet access.

use axum::extract::Path;
use axum::response::{Html, Response};

const PAGE: &str = include_str!("../../assets/dashboard/index.html");

const ASSETS: [(&str, &str, &[u8]); 2] = [
    (
        "dashboard.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/dashboard/dashboard.js"),
    ),
    (
        "dashboard.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/dashboard/dashboard.css"),
    ),
];

/// `GET /`.
pub async fn page() -> Html<&'static str> {
    Html(PAGE)
}

/// `GET /assets/dashboard/{file}`. Versioned with the binary, but small: revalidated
/// after an hour.
pub async fn asset(Path(file): Path<String>) -> Response {
    super::graphiql::embedded_asset(&ASSETS, &file, "public, max-age=3600")
}
