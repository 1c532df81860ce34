//! The yearly report drafted from the API's own answers: the report's query runs as the
//! caller, so the document shows exactly what the caller may read, through the same
//! filters, scopes and target rules as every other client.

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::HubSchema;
use crate::domain::auth::Caller;
use crate::domain::reporting::{ReportAccess, report_access};
use crate::report::Document;
use crate::report::yearly::{self, ReportData, STARTUPS_PAGE, Scope, SupportedPage};

/// Why a report could not be drafted.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("reports are read with a token: an admin's, an analyst's, or an agency's own")]
    SignInFirst,
    #[error("{0}")]
    Forbidden(String),
    #[error("no agency has the code {0:?}")]
    UnknownAgency(String),
    #[error("no report for year {0}: years run from 2000 to 2100")]
    Year(i32),
    /// The report's query failed; `code` is the error's `extensions.code`.
    #[error("the report's data could not be read: {message}")]
    Query {
        code: Option<String>,
        message: String,
    },
}

/// Drafts the report for `year`: the consolidated one, or `agency`'s.
pub async fn yearly_report(
    schema: &HubSchema,
    caller: &Caller,
    year: i32,
    agency: Option<&str>,
) -> Result<Document, ReportError> {
    if !(2000..=2100).contains(&year) {
        return Err(ReportError::Year(year));
    }
    match report_access(caller, agency) {
        ReportAccess::Allowed => {}
        ReportAccess::SignInFirst => return Err(ReportError::SignInFirst),
        ReportAccess::Forbidden => {
            return Err(ReportError::Forbidden(match agency {
                Some(code) => format!("an agency token drafts its own report only, not {code:?}'s"),
                None => "an agency token drafts its own report only; the consolidated report \
                         is for admins and analysts"
                    .to_owned(),
            }));
        }
    }
    let variables = json!({
        "plan": yearly::PLAN,
        "year": year,
        "asOf": yearly::as_of(year),
        "agency": agency.unwrap_or_default(),
    });
    let mut data: ReportData = run(schema, caller, &yearly::query(), variables).await?;
    while data.startups.page_info.has_next_page {
        let after = data.startups.page_info.end_cursor.clone();
        let next: SupportedPage =
            run(schema, caller, STARTUPS_PAGE, json!({ "after": after })).await?;
        data.extend_startups(next.startups);
    }
    let scope = match agency {
        None => Scope::Plan,
        Some(code) => Scope::Agency(
            data.scope_agency
                .clone()
                .ok_or_else(|| ReportError::UnknownAgency(code.to_owned()))?,
        ),
    };
    Ok(yearly::build(&data, year, &scope))
}

/// Runs one document as the caller and reads its data into `T`.
async fn run<T: DeserializeOwned>(
    schema: &HubSchema,
    caller: &Caller,
    query: &str,
    variables: Value,
) -> Result<T, ReportError> {
    let request = super::context::request_as(query, variables, caller.clone());
    let response = schema.execute(request).await;
    if let Some(error) = response.errors.first() {
        return Err(ReportError::Query {
            code: super::error::error_code(error).map(str::to_owned),
            message: error.message.clone(),
        });
    }
    let data = response.data.into_json().map_err(|e| ReportError::Query {
        code: None,
        message: e.to_string(),
    })?;
    serde_json::from_value(data).map_err(|e| ReportError::Query {
        code: None,
        message: format!("unexpected answer: {e}"),
    })
}
