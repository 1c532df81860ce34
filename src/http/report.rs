//! `GET /reports/{year}/plan.docx|.pdf` and `GET /reports/{year}/{agencyCode}.docx|.pdf`:
//! the yearly report, consolidated or one agency's, drafted from the data as the caller
//! (`graphql::report`). Admins and analysts read every report, an agency its own.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::response::{ResponseType, error_response};
use super::state::AppState;
use crate::graphql::error::code;
use crate::graphql::report::{ReportError, yearly_report};
use crate::report::Format;

/// The consolidated report's file name, before its extension.
const PLAN_FILE: &str = "plan";

/// `GET /reports/{year}/{file}`.
pub async fn yearly(
    State(state): State<AppState>,
    Path((year, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let refuse =
        |status, code, message: String| error_response(status, ResponseType::Json, code, message);
    let Ok(year) = year.parse::<i32>() else {
        return refuse(
            StatusCode::NOT_FOUND,
            code::NOT_FOUND,
            format!("{year:?} is not a year"),
        );
    };
    let Some((name, format)) = file
        .rsplit_once('.')
        .and_then(|(name, ext)| Some((name, ext.parse::<Format>().ok()?)))
    else {
        return refuse(
            StatusCode::NOT_FOUND,
            code::NOT_FOUND,
            format!(
                "no report {file:?}: reports are plan.docx, plan.pdf, <agency code>.docx or <agency code>.pdf"
            ),
        );
    };
    let caller = match super::auth::caller(&state, &headers, ResponseType::Json).await {
        Ok(caller) => caller,
        Err(refusal) => return refusal,
    };
    let agency = (name != PLAN_FILE).then_some(name);
    let document = match yearly_report(&state.schema, &caller, year, agency).await {
        Ok(document) => document,
        Err(error) => return refusal(&error),
    };
    let fonts = state.report_fonts.clone();
    // Line breaking, font subsetting and compression are CPU work: off the runtime.
    let rendered = tokio::task::spawn_blocking(move || format.render(&document, &fonts)).await;
    match rendered {
        Ok(Ok(bytes)) => {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            );
            let file_name = format!("bao-cao-{year}-{name}.{}", format.extension());
            if let Ok(value) =
                HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
            {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            (headers, bytes).into_response()
        }
        Ok(Err(error)) => {
            tracing::error!(%error, "a report could not be rendered");
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                code::INTERNAL,
                "the report could not be rendered".to_owned(),
            )
        }
        Err(error) => {
            tracing::error!(%error, "rendering a report panicked");
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                code::INTERNAL,
                "the report could not be rendered".to_owned(),
            )
        }
    }
}

fn refusal(error: &ReportError) -> Response {
    let (status, code) = match error {
        ReportError::SignInFirst => (StatusCode::UNAUTHORIZED, code::UNAUTHENTICATED),
        ReportError::Forbidden(_) => (StatusCode::FORBIDDEN, code::FORBIDDEN),
        ReportError::UnknownAgency(_) | ReportError::Year(_) => {
            (StatusCode::NOT_FOUND, code::NOT_FOUND)
        }
        ReportError::Query { code: Some(c), .. } if c == code::SERVICE_UNAVAILABLE => {
            (StatusCode::SERVICE_UNAVAILABLE, code::SERVICE_UNAVAILABLE)
        }
        ReportError::Query { .. } => {
            tracing::error!(%error, "a report's query failed");
            (StatusCode::INTERNAL_SERVER_ERROR, code::INTERNAL)
        }
    };
    let message = match error {
        ReportError::Query { .. } if status == StatusCode::INTERNAL_SERVER_ERROR => {
            "the report's data could not be read".to_owned()
        }
        other => other.to_string(),
    };
    error_response(status, ResponseType::Json, code, message)
}
