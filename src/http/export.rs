//! `GET /export/{kind}.csv|.xlsx` and `GET /export/aggregate/{kind}.csv|.xlsx`: lists and
//! aggregates as files a spreadsheet or BI tool opens without help.
//!
//! An export runs the same GraphQL query a client would, page by page, as the caller
//! (the bearer token, or anonymous): filters, permissions and values are exactly the
//! API's. CSV is streamed as pages arrive (UTF-8 with a BOM, so Excel reads Vietnamese
//! right); XLSX rows go to disk as they arrive (constant-memory mode) and the
//! compressed workbook is sent once complete.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::response::{ResponseType, error_response};
use super::state::AppState;
use crate::domain::auth::Caller;
use crate::domain::records::RecordKind;
use crate::graphql::error::code;

/// Rows fetched per GraphQL page.
const PAGE: usize = 500;
/// Excel's row limit, header row included.
const XLSX_MAX_ROWS: usize = 1_048_576;

/// One exportable list: its URL name, GraphQL field and types, and the columns, each a
/// dotted path into a node (`producer.name`); list values are joined with "; ".
struct Kind {
    name: String,
    field: String,
    filter_type: String,
    order_type: String,
    aggregate_field: String,
    dimension_type: String,
    metric_type: String,
    /// Plan tasks are never archived, so their list takes no `includeInactive`.
    has_inactive: bool,
    columns: Vec<&'static str>,
}

const PROVENANCE: [&str; 5] = ["source", "externalId", "fetchedAt", "updatedAt", "version"];

/// Every record kind's export, from its declaration, then the plan's tasks.
static KINDS: std::sync::LazyLock<Vec<Kind>> = std::sync::LazyLock::new(|| {
    let mut kinds: Vec<Kind> = RecordKind::ALL
        .iter()
        .map(|kind| record_export(crate::records::spec_of(*kind)))
        .collect();
    kinds.push(Kind {
        name: "tasks".into(),
        field: "tasks".into(),
        filter_type: "TaskFilter".into(),
        order_type: "TaskOrderBy".into(),
        aggregate_field: "tasksAggregate".into(),
        dimension_type: "TaskDimension".into(),
        metric_type: "NoMetric".into(),
        has_inactive: false,
        columns: vec![
            "code",
            "number",
            "section.numeral",
            "text",
            "leadAgency.code",
            "leadAgency.name",
            "leadText",
            "coordinatorsText",
            "deliverable",
            "timeline.text",
            "status",
            "progressNote",
            "progressUpdatedAt",
        ],
    });
    kinds
});

fn record_export(spec: &'static crate::records::spec::Spec) -> Kind {
    let name = spec.type_name();
    let mut columns = spec.export.to_vec();
    columns.push("tasks.code");
    columns.extend(PROVENANCE);
    Kind {
        name: spec.export_name.to_owned(),
        field: spec.list_field(),
        filter_type: format!("{name}Filter"),
        order_type: format!("{name}OrderBy"),
        aggregate_field: spec.aggregate_field(),
        dimension_type: format!("{name}Dimension"),
        metric_type: if spec.metrics.is_empty() {
            "NoMetric".into()
        } else {
            format!("{name}Metric")
        },
        has_inactive: true,
        columns,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Xlsx,
}

/// Why an export is refused before any byte is sent.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Refusal {
    fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: code::BAD_USER_INPUT,
            message: message.into(),
        }
    }

    fn into_response(self) -> Response {
        error_response(self.status, ResponseType::Json, self.code, self.message)
    }
}

fn split_file(file: &str) -> Result<(&'static Kind, Format), Refusal> {
    let (name, format) = if let Some(name) = file.strip_suffix(".csv") {
        (name, Format::Csv)
    } else if let Some(name) = file.strip_suffix(".xlsx") {
        (name, Format::Xlsx)
    } else {
        return Err(Refusal {
            status: StatusCode::NOT_FOUND,
            code: code::NOT_FOUND,
            message: format!("{file:?}: exports end in .csv or .xlsx"),
        });
    };
    let kind = KINDS
        .iter()
        .find(|k| k.name == name)
        .ok_or_else(|| Refusal {
            status: StatusCode::NOT_FOUND,
            code: code::NOT_FOUND,
            message: format!(
                "no export named {name:?}; there are {}",
                KINDS
                    .iter()
                    .map(|k| k.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })?;
    Ok((kind, format))
}

/// `camelCase` or `kebab-case` to the `SCREAMING_SNAKE` of GraphQL enum values.
fn enum_value(text: &str) -> String {
    let mut out = String::new();
    let mut after_lower = false;
    for c in text.trim().chars() {
        if c == '-' || c == ' ' {
            out.push('_');
        } else {
            // A capital after a small letter starts a word: certifiedOn → CERTIFIED_ON.
            if c.is_uppercase() && after_lower {
                out.push('_');
            }
            out.push(c.to_ascii_uppercase());
        }
        after_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    out
}

/// A query-string value as JSON: numbers and booleans as such, anything else as text.
fn scalar(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(v @ (Value::Number(_) | Value::Bool(_))) => v,
        _ => Value::String(text.to_owned()),
    }
}

fn filter_from(params: &[(String, String)]) -> Result<Option<Value>, Refusal> {
    filter_json(params).map_err(Refusal::bad_request)
}

/// The filter the query string describes: `filter=<the GraphQL filter as JSON>`, and/or
/// `field.op=value` pairs (`stars.gte=4&district.eq=Lai Vung`, `in` values separated by
/// commas), all of which must hold. The result is the list's GraphQL filter input, or why
/// the query string cannot be one.
pub fn filter_json(params: &[(String, String)]) -> Result<Option<Value>, String> {
    let mut parts: Vec<Value> = Vec::new();
    for (key, value) in params {
        if key == "filter" {
            let parsed: Value =
                serde_json::from_str(value).map_err(|e| format!("filter: not JSON: {e}"))?;
            if !parsed.is_object() {
                return Err("filter: must be a JSON object".into());
            }
            parts.push(parsed);
        } else if let Some((field, op)) = key.split_once('.') {
            let value = match op {
                "in" => Value::Array(value.split(',').map(|v| scalar(v.trim())).collect()),
                "isNull" => scalar(value),
                "contains" => Value::String(value.clone()),
                _ => scalar(value),
            };
            let mut condition = Map::new();
            condition.insert(op.to_owned(), value);
            let mut field_filter = Map::new();
            field_filter.insert(field.to_owned(), Value::Object(condition));
            parts.push(Value::Object(field_filter));
        }
    }
    Ok(match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(serde_json::json!({ "and": parts })),
    })
}

/// `orderBy=certifiedOn:desc,name` as the list's `orderBy` argument.
fn order_from(params: &[(String, String)]) -> Option<Value> {
    let text = params.iter().find(|(k, _)| k == "orderBy")?.1.clone();
    let items: Vec<Value> = text
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|item| {
            let (field, direction) = item.split_once(':').unwrap_or((item, "asc"));
            serde_json::json!({
                "field": enum_value(field),
                "direction": direction.trim().to_ascii_uppercase(),
            })
        })
        .collect();
    Some(Value::Array(items))
}

fn flag(params: &[(String, String)], name: &str) -> bool {
    params
        .iter()
        .any(|(k, v)| k == name && matches!(v.as_str(), "true" | "1" | "yes"))
}

fn list_values(params: &[(String, String)], name: &str) -> Vec<String> {
    params
        .iter()
        .filter(|(k, _)| k == name)
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(enum_value)
        .collect()
}

/// The GraphQL selection for dotted column paths (`producer.name` → `producer { name }`).
fn selection(columns: &[&str]) -> String {
    let mut fields: Vec<(String, Vec<String>)> = Vec::new();
    for column in columns {
        let (head, rest) = match column.split_once('.') {
            Some((head, rest)) => (head, Some(rest)),
            None => (*column, None),
        };
        let index = match fields.iter().position(|(f, _)| f == head) {
            Some(index) => index,
            None => {
                fields.push((head.to_owned(), Vec::new()));
                fields.len() - 1
            }
        };
        if let Some(rest) = rest {
            fields[index].1.push(rest.to_owned());
        }
    }
    fields
        .into_iter()
        .map(|(field, children)| {
            if children.is_empty() {
                field
            } else {
                let children: Vec<&str> = children.iter().map(String::as_str).collect();
                format!("{field} {{ {} }}", selection(&children))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One exported value: its text (what CSV writes, unchanged) and what a spreadsheet
/// should hold (a number, a date, a boolean, or the text).
#[derive(Debug, Clone, PartialEq)]
struct Cell {
    text: String,
    typed: Typed,
}

#[derive(Debug, Clone, PartialEq)]
enum Typed {
    Text,
    Number(f64),
    Bool(bool),
    Date(chrono::NaiveDate),
    /// The local time of the value (the offset it was written with).
    DateTime(chrono::NaiveDateTime),
}

impl Cell {
    /// The value at `path` in `node`: a single JSON number, boolean, date or timestamp keeps
    /// its type; several values (a list) are joined with "; " as text.
    fn at(node: &Value, path: &str) -> Self {
        let leaves = leaves(node, path);
        let typed = match leaves.as_slice() {
            [Value::Number(n)] => n.as_f64().map_or(Typed::Text, Typed::Number),
            [Value::Bool(b)] => Typed::Bool(*b),
            [Value::String(s)] => typed_text(s),
            _ => Typed::Text,
        };
        let text = leaves
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join("; ");
        Cell { text, typed }
    }
}

/// A date (`2019-08-27`) or an RFC 3339 timestamp as such; anything else is text.
fn typed_text(text: &str) -> Typed {
    if text.len() == 10
        && let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
    {
        return Typed::Date(date);
    }
    if text.len() >= 20
        && let Ok(at) = chrono::DateTime::parse_from_rfc3339(text)
    {
        return Typed::DateTime(at.naive_local());
    }
    Typed::Text
}

/// The non-null values at `path` in `node`, through lists.
fn leaves(node: &Value, path: &str) -> Vec<Value> {
    fn at(value: &Value, path: &[&str], out: &mut Vec<Value>) {
        match (value, path.split_first()) {
            (Value::Array(items), _) => {
                for item in items {
                    at(item, path, out);
                }
            }
            (Value::Object(map), Some((head, rest))) => {
                if let Some(child) = map.get(*head) {
                    at(child, rest, out);
                }
            }
            (Value::Null, _) => {}
            (leaf, None) => out.push(leaf.clone()),
            _ => {}
        }
    }
    let parts: Vec<&str> = path.split('.').collect();
    let mut out = Vec::new();
    at(node, &parts, &mut out);
    out
}

/// Runs one GraphQL document as the caller; the data, or the refusal its errors make.
async fn run(
    state: &AppState,
    caller: &Caller,
    query: &str,
    variables: Value,
) -> Result<Value, Refusal> {
    let request = crate::graphql::context::request_as(query, variables, caller.clone());
    let response = state.schema.execute(request).await;
    if let Some(error) = response.errors.first() {
        let (status, code) = match crate::graphql::error::error_code(error).unwrap_or_default() {
            code::FORBIDDEN => (StatusCode::FORBIDDEN, code::FORBIDDEN),
            code::UNAUTHENTICATED => (StatusCode::UNAUTHORIZED, code::UNAUTHENTICATED),
            code::INTERNAL => (StatusCode::INTERNAL_SERVER_ERROR, code::INTERNAL),
            code::SERVICE_UNAVAILABLE => {
                (StatusCode::SERVICE_UNAVAILABLE, code::SERVICE_UNAVAILABLE)
            }
            _ => (StatusCode::BAD_REQUEST, code::BAD_USER_INPUT),
        };
        return Err(Refusal {
            status,
            code,
            message: error.message.clone(),
        });
    }
    response
        .data
        .into_json()
        .map_err(|e| Refusal::bad_request(e.to_string()))
}

/// A source of rows: the header, then pages of cells until none is left.
struct Rows {
    header: Vec<String>,
    pages: PageSource,
}

enum PageSource {
    List {
        kind: &'static Kind,
        query: String,
        variables: Map<String, Value>,
        after: Option<String>,
        done: bool,
    },
    Once(Option<Vec<Vec<Cell>>>),
}

impl Rows {
    async fn next_page(
        &mut self,
        state: &AppState,
        caller: &Caller,
    ) -> Result<Option<Vec<Vec<Cell>>>, Refusal> {
        match &mut self.pages {
            PageSource::Once(rows) => Ok(rows.take()),
            PageSource::List {
                kind,
                query,
                variables,
                after,
                done,
            } => {
                if *done {
                    return Ok(None);
                }
                let mut vars = variables.clone();
                vars.insert(
                    "after".into(),
                    after.clone().map_or(Value::Null, Value::String),
                );
                let data = run(state, caller, query, Value::Object(vars)).await?;
                let page = &data["page"];
                let nodes = page["nodes"].as_array().cloned().unwrap_or_default();
                let rows = nodes
                    .iter()
                    .map(|node| kind.columns.iter().map(|c| Cell::at(node, c)).collect())
                    .collect();
                let next = page["pageInfo"]["hasNextPage"].as_bool().unwrap_or(false);
                *after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
                *done = !next || after.is_none();
                Ok(Some(rows))
            }
        }
    }
}

/// The `$inactive` declaration and argument, for kinds whose lists take one.
fn inactive_parts(kind: &Kind) -> (&'static str, &'static str) {
    if kind.has_inactive {
        (", $inactive: Boolean!", ", includeInactive: $inactive")
    } else {
        ("", "")
    }
}

/// The variables lists and aggregates share: the filter and, where taken, inactivity.
fn common_variables(
    kind: &Kind,
    params: &[(String, String)],
) -> Result<Map<String, Value>, Refusal> {
    let mut variables = Map::new();
    variables.insert("filter".into(), filter_from(params)?.unwrap_or(Value::Null));
    if kind.has_inactive {
        variables.insert(
            "inactive".into(),
            Value::Bool(flag(params, "includeInactive")),
        );
    }
    Ok(variables)
}

fn list_rows(kind: &'static Kind, params: &[(String, String)]) -> Result<Rows, Refusal> {
    let (inactive_var, inactive) = inactive_parts(kind);
    let query = format!(
        "query Export($filter: {filter}, $orderBy: [{order}!], $after: String{inactive_var}) {{ \
         page: {field}(filter: $filter, orderBy: $orderBy, first: {PAGE}, after: $after{inactive}) {{ \
         pageInfo {{ hasNextPage endCursor }} nodes {{ {selection} }} }} }}",
        filter = kind.filter_type,
        order = kind.order_type,
        field = kind.field,
        selection = selection(&kind.columns),
    );
    let mut variables = common_variables(kind, params)?;
    variables.insert("orderBy".into(), order_from(params).unwrap_or(Value::Null));
    Ok(Rows {
        header: kind.columns.iter().map(|c| (*c).to_owned()).collect(),
        pages: PageSource::List {
            kind,
            query,
            variables,
            after: None,
            done: false,
        },
    })
}

async fn aggregate_rows(
    state: &AppState,
    caller: &Caller,
    kind: &'static Kind,
    params: &[(String, String)],
) -> Result<Rows, Refusal> {
    let group_by = list_values(params, "groupBy");
    let metrics = list_values(params, "metrics");
    let (inactive_var, inactive) = inactive_parts(kind);
    let query = format!(
        "query Export($filter: {filter}, $groupBy: [{dimension}!], $metrics: [{metric}!]{inactive_var}) {{ \
         rows: {field}(filter: $filter, groupBy: $groupBy, metrics: $metrics{inactive}) {{ \
         keys {{ dimension value label }} count metrics {{ metric sum avg min max }} }} }}",
        filter = kind.filter_type,
        dimension = kind.dimension_type,
        metric = kind.metric_type,
        field = kind.aggregate_field,
    );
    let mut variables = common_variables(kind, params)?;
    variables.insert("groupBy".into(), serde_json::json!(group_by));
    variables.insert("metrics".into(), serde_json::json!(metrics));
    let data = run(state, caller, &query, Value::Object(variables)).await?;
    let rows = data["rows"].as_array().cloned().unwrap_or_default();
    // Column names come from the request, so an empty result still has its header.
    let metric_names: Vec<String> = metrics
        .iter()
        .map(|m| crate::graphql::aggregate::camel(m))
        .collect();
    let mut header = Vec::new();
    for dimension in &group_by {
        let name = crate::graphql::aggregate::camel(dimension);
        header.push(name.clone());
        header.push(format!("{name}Label"));
    }
    header.push("count".to_owned());
    for metric in &metric_names {
        for stat in ["Sum", "Avg", "Min", "Max"] {
            header.push(format!("{metric}{stat}"));
        }
    }
    let cells = rows
        .iter()
        .map(|row| {
            let mut cells = Vec::new();
            let keys = row["keys"].as_array().cloned().unwrap_or_default();
            for key in &keys {
                cells.push(Cell::at(key, "value"));
                cells.push(Cell::at(key, "label"));
            }
            cells.push(Cell::at(row, "count"));
            let values = row["metrics"].as_array().cloned().unwrap_or_default();
            for value in &values {
                for stat in ["sum", "avg", "min", "max"] {
                    cells.push(Cell::at(value, stat));
                }
            }
            cells
        })
        .collect();
    Ok(Rows {
        header,
        pages: PageSource::Once(Some(cells)),
    })
}

fn csv_line<T: AsRef<[u8]>>(cells: impl IntoIterator<Item = T>) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Writing to memory cannot fail.
    let _ = writer.write_record(cells);
    writer.into_inner().unwrap_or_default()
}

fn attachment(name: &str, content_type: &'static str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers
}

async fn respond(
    state: AppState,
    caller: Caller,
    mut rows: Rows,
    format: Format,
    file_stem: String,
) -> Response {
    // The first page is read before answering, so a bad filter gets a 400, not a
    // truncated file.
    let first = match rows.next_page(&state, &caller).await {
        Ok(page) => page.unwrap_or_default(),
        Err(refusal) => return refusal.into_response(),
    };
    match format {
        Format::Csv => {
            let mut head = vec![0xEF, 0xBB, 0xBF];
            head.extend(csv_line(&rows.header));
            for row in &first {
                head.extend(csv_line(row.iter().map(|c| &c.text)));
            }
            let stream = futures_util::stream::unfold(
                (Some(head), rows, state, caller),
                |(head, mut rows, state, caller)| async move {
                    if let Some(head) = head {
                        return Some((Ok::<_, std::io::Error>(head), (None, rows, state, caller)));
                    }
                    match rows.next_page(&state, &caller).await {
                        Ok(Some(page)) => {
                            let mut chunk = Vec::new();
                            for row in &page {
                                chunk.extend(csv_line(row.iter().map(|c| &c.text)));
                            }
                            Some((Ok(chunk), (None, rows, state, caller)))
                        }
                        Ok(None) => None,
                        Err(refusal) => {
                            tracing::warn!(message = %refusal.message, "an export stopped mid-way");
                            // Ending with an error aborts the response, so the client
                            // sees a failed download rather than a short file.
                            Some((
                                Err(std::io::Error::other(refusal.message)),
                                (None, rows, state, caller),
                            ))
                        }
                    }
                },
            );
            let headers = attachment(&format!("{file_stem}.csv"), "text/csv; charset=utf-8");
            (StatusCode::OK, headers, Body::from_stream(stream)).into_response()
        }
        Format::Xlsx => match xlsx(&state, &caller, rows, first, &file_stem).await {
            Ok(bytes) => {
                let headers = attachment(
                    &format!("{file_stem}.xlsx"),
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                );
                (StatusCode::OK, headers, Body::from(bytes)).into_response()
            }
            Err(refusal) => refusal.into_response(),
        },
    }
}

/// The workbook: one sheet named after the export, the header row bold and frozen,
/// columns as wide as the header and first page need, numbers, booleans and dates typed.
/// Rows are written as pages arrive (constant memory).
async fn xlsx(
    state: &AppState,
    caller: &Caller,
    mut rows: Rows,
    first: Vec<Vec<Cell>>,
    name: &str,
) -> Result<Vec<u8>, Refusal> {
    use rust_xlsxwriter::{Format, Workbook};
    let failed = |e: &dyn std::fmt::Display| {
        tracing::error!(detail = %e, "a spreadsheet export could not be written");
        Refusal {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: code::INTERNAL,
            message: "the spreadsheet could not be written; the cause is in the server log"
                .to_owned(),
        }
    };
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet_with_constant_memory();
    sheet.set_name(sheet_name(name)).map_err(|e| failed(&e))?;
    sheet.set_freeze_panes(1, 0).map_err(|e| failed(&e))?;
    for (col, width) in column_widths(&rows.header, &first).into_iter().enumerate() {
        sheet
            .set_column_width(col as u16, width)
            .map_err(|e| failed(&e))?;
    }
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let date_time = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    for (col, name) in rows.header.iter().enumerate() {
        sheet
            .write_string_with_format(0, col as u16, name, &bold)
            .map_err(|e| failed(&e))?;
    }
    let mut row_index: u32 = 1;
    let mut page = Some(first);
    while let Some(cells) = page {
        for row in cells {
            if row_index as usize >= XLSX_MAX_ROWS {
                return Err(Refusal::bad_request(format!(
                    "more than {} rows: narrow the filter or export CSV",
                    XLSX_MAX_ROWS - 1
                )));
            }
            for (col, cell) in row.iter().enumerate() {
                if cell.text.is_empty() {
                    continue;
                }
                let col = col as u16;
                let written = match &cell.typed {
                    Typed::Number(n) => sheet.write_number(row_index, col, *n).map(|_| ()),
                    Typed::Bool(b) => sheet.write_boolean(row_index, col, *b).map(|_| ()),
                    Typed::Date(d) => excel_date(*d)
                        .and_then(|d| sheet.write_datetime_with_format(row_index, col, &d, &date))
                        .map(|_| ()),
                    Typed::DateTime(t) => excel_date(t.date())
                        .and_then(|d| {
                            use chrono::Timelike;
                            d.and_hms(t.hour() as u16, t.minute() as u8, f64::from(t.second()))
                        })
                        .and_then(|d| {
                            sheet.write_datetime_with_format(row_index, col, &d, &date_time)
                        })
                        .map(|_| ()),
                    Typed::Text => sheet.write_string(row_index, col, &cell.text).map(|_| ()),
                };
                written.map_err(|e| failed(&e))?;
            }
            row_index += 1;
        }
        page = rows.next_page(state, caller).await?;
    }
    workbook.save_to_buffer().map_err(|e| failed(&e))
}

fn excel_date(
    date: chrono::NaiveDate,
) -> Result<rust_xlsxwriter::ExcelDateTime, rust_xlsxwriter::XlsxError> {
    use chrono::Datelike;
    let year = u16::try_from(date.year()).unwrap_or(0);
    rust_xlsxwriter::ExcelDateTime::from_ymd(year, date.month() as u8, date.day() as u8)
}

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '-' } else { c })
        .take(31)
        .collect();
    if cleaned.trim().is_empty() {
        "export".to_owned()
    } else {
        cleaned
    }
}

/// Widths, in characters, that fit the header and the first page: from 8 to 60.
fn column_widths(header: &[String], first: &[Vec<Cell>]) -> Vec<f64> {
    header
        .iter()
        .enumerate()
        .map(|(col, name)| {
            let widest = first
                .iter()
                .filter_map(|row| row.get(col))
                .map(|cell| match cell.typed {
                    Typed::Date(_) => 10,
                    Typed::DateTime(_) => 19,
                    _ => cell.text.chars().count(),
                })
                .chain(std::iter::once(name.chars().count()))
                .max()
                .unwrap_or(8);
            (widest + 2).clamp(8, 60) as f64
        })
        .collect()
}

/// The export a request names and who asks for it, or the response refusing it.
async fn requested(
    state: &AppState,
    file: &str,
    headers: &HeaderMap,
) -> Result<(&'static Kind, Format, Caller), Response> {
    let (kind, format) = split_file(file).map_err(Refusal::into_response)?;
    let caller = super::auth::caller(state, headers, ResponseType::Json).await?;
    Ok((kind, format, caller))
}

/// `GET /export/{kind}.csv|.xlsx`.
pub async fn list(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let (kind, format, caller) = match requested(&state, &file, &headers).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    let rows = match list_rows(kind, &params) {
        Ok(rows) => rows,
        Err(refusal) => return refusal.into_response(),
    };
    respond(state, caller, rows, format, kind.name.clone()).await
}

/// `GET /export/aggregate/{kind}.csv|.xlsx?groupBy=district,stars&metrics=stars`.
pub async fn aggregate(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let (kind, format, caller) = match requested(&state, &file, &headers).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    let rows = match aggregate_rows(&state, &caller, kind, &params).await {
        Ok(rows) => rows,
        Err(refusal) => return refusal.into_response(),
    };
    respond(
        state,
        caller,
        rows,
        format,
        format!("{}-aggregate", kind.name),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn query_parameters_become_the_graphql_filter() {
        let filter = filter_from(&params(&[("stars.gte", "4"), ("district.eq", "Lai Vung")]))
            .unwrap()
            .unwrap();
        assert_eq!(
            filter,
            serde_json::json!({ "and": [
                { "stars": { "gte": 4 } },
                { "district": { "eq": "Lai Vung" } },
            ]})
        );
        let one = filter_from(&params(&[("stars.in", "4, 5")]))
            .unwrap()
            .unwrap();
        assert_eq!(one, serde_json::json!({ "stars": { "in": [4, 5] } }));
        let json = filter_from(&params(&[("filter", r#"{"name":{"contains":"xoài"}}"#)]))
            .unwrap()
            .unwrap();
        assert_eq!(json, serde_json::json!({ "name": { "contains": "xoài" } }));
        assert!(filter_from(&params(&[("filter", "{nope")])).is_err());
        assert!(
            filter_from(&params(&[("orderBy", "name")]))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn orders_and_enum_names_read_like_the_api() {
        assert_eq!(enum_value("certifiedOn"), "CERTIFIED_ON");
        assert_eq!(enum_value("certified-on-year"), "CERTIFIED_ON_YEAR");
        assert_eq!(enum_value("DISTRICT"), "DISTRICT");
        assert_eq!(
            order_from(&params(&[("orderBy", "certifiedOn:desc,name")])).unwrap(),
            serde_json::json!([
                { "field": "CERTIFIED_ON", "direction": "DESC" },
                { "field": "NAME", "direction": "ASC" },
            ])
        );
    }

    #[test]
    fn columns_become_a_selection_and_cells() {
        assert_eq!(
            selection(&["id", "producer.name", "producer.taxCode", "tasks.code"]),
            "id producer { name taxCode } tasks { code }"
        );
        let node = serde_json::json!({
            "id": "IpRight:1", "stars": 4, "producer": { "name": "HTX Tân Thuận" },
            "tasks": [{ "code": "IV.1" }, { "code": "V.4" }], "commune": null,
        });
        assert_eq!(Cell::at(&node, "id").text, "IpRight:1");
        assert_eq!(Cell::at(&node, "stars").text, "4");
        assert_eq!(Cell::at(&node, "producer.name").text, "HTX Tân Thuận");
        assert_eq!(Cell::at(&node, "tasks.code").text, "IV.1; V.4");
        assert_eq!(Cell::at(&node, "commune").text, "");
        assert_eq!(Cell::at(&node, "missing.path").text, "");
    }

    #[test]
    fn cells_keep_numbers_booleans_and_dates_typed() {
        let node = serde_json::json!({
            "stars": 4, "avg": 3.5, "farm": true, "year": 2019,
            "certifiedOn": "2019-08-27", "at": "2024-05-01T08:30:00+07:00",
            "code": "2019-08-27-x", "tasks": [{ "code": "1" }, { "code": "2" }],
        });
        assert_eq!(Cell::at(&node, "stars").typed, Typed::Number(4.0));
        assert_eq!(Cell::at(&node, "avg").typed, Typed::Number(3.5));
        assert_eq!(Cell::at(&node, "farm").typed, Typed::Bool(true));
        assert_eq!(Cell::at(&node, "farm").text, "true");
        assert_eq!(Cell::at(&node, "year").typed, Typed::Number(2019.0));
        assert_eq!(
            Cell::at(&node, "certifiedOn").typed,
            Typed::Date(chrono::NaiveDate::from_ymd_opt(2019, 8, 27).unwrap())
        );
        let at = Cell::at(&node, "at");
        assert_eq!(at.text, "2024-05-01T08:30:00+07:00", "CSV keeps the text");
        assert_eq!(
            at.typed,
            Typed::DateTime(
                chrono::NaiveDate::from_ymd_opt(2024, 5, 1)
                    .unwrap()
                    .and_hms_opt(8, 30, 0)
                    .unwrap()
            )
        );
        assert_eq!(Cell::at(&node, "code").typed, Typed::Text);
        assert_eq!(
            Cell::at(&node, "tasks.code").typed,
            Typed::Text,
            "a list is text"
        );
        assert_eq!(sheet_name("a/b:c*d?e[f]"), "a-b-c-d-e-f-");
        assert_eq!(sheet_name(&"x".repeat(40)).len(), 31);
    }

    #[test]
    fn every_kind_has_a_unique_kebab_name() {
        for (i, kind) in KINDS.iter().enumerate() {
            assert!(
                kind.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-')
            );
            assert!(KINDS[..i].iter().all(|k| k.name != kind.name));
        }
        assert!(split_file("ocop-products.csv").is_ok());
        assert!(split_file("ocop-products.xlsx").is_ok());
        assert!(split_file("ocop-products.json").is_err());
        assert!(split_file("nope.csv").is_err());
    }
}
