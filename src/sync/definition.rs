//! Connector definitions: one TOML file per registry in the connectors folder. Unknown
//! keys and bad values are refused when the hub starts, naming the file, line and key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;
use toml::Spanned;

use crate::domain::records::RecordKind;

/// A definition that cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("{}:{line}: {key}: {message}", file.display())]
pub struct DefinitionError {
    pub file: PathBuf,
    pub line: usize,
    pub key: String,
    pub message: String,
}

/// The kinds of source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    HttpJson,
    Csv,
    CkanDatastore,
    Epcis,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::HttpJson => "http_json",
            SourceKind::Csv => "csv",
            SourceKind::CkanDatastore => "ckan_datastore",
            SourceKind::Epcis => "epcis",
        }
    }
}

/// Whether each run sees the whole registry (records gone from it are withdrawn) or only
/// what changed since the watermark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Snapshot,
    Incremental,
}

/// How to authenticate: a header whose value comes from an environment variable.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    #[serde(default = "default_auth_header")]
    pub header: String,
    /// Put before the secret, e.g. "Bearer".
    pub scheme: Option<String>,
    /// The environment variable that holds the secret.
    pub token_env: String,
}

fn default_auth_header() -> String {
    "Authorization".into()
}

/// Timeouts and retries of outbound requests.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: f64,
    #[serde(default = "default_timeout")]
    pub timeout_secs: f64,
    #[serde(default = "default_attempts")]
    pub max_attempts: usize,
    /// First backoff delay; doubled per attempt, with jitter.
    #[serde(default = "default_backoff")]
    pub backoff_secs: f64,
    /// Longest wait a `Retry-After` may ask for.
    #[serde(default = "default_retry_after_cap")]
    pub retry_after_cap_secs: f64,
}

fn default_connect_timeout() -> f64 {
    10.0
}
fn default_timeout() -> f64 {
    60.0
}
fn default_attempts() -> usize {
    4
}
fn default_backoff() -> f64 {
    1.0
}
fn default_retry_after_cap() -> f64 {
    120.0
}

impl Default for Http {
    fn default() -> Self {
        Self {
            connect_timeout_secs: default_connect_timeout(),
            timeout_secs: default_timeout(),
            max_attempts: default_attempts(),
            backoff_secs: default_backoff(),
            retry_after_cap_secs: default_retry_after_cap(),
        }
    }
}

/// Pagination of an `http_json` source.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "style", rename_all = "snake_case", deny_unknown_fields)]
pub enum Pagination {
    /// One request returns everything.
    None,
    /// `?offset=0&limit=100`, then 100, 200… until a short page.
    Offset {
        #[serde(default = "offset_param")]
        offset_param: String,
        #[serde(default = "limit_param")]
        limit_param: String,
        #[serde(default = "page_size")]
        limit: u32,
    },
    /// `?page=1&per_page=100`, then 2, 3… until a short page.
    Page {
        #[serde(default = "page_param")]
        page_param: String,
        #[serde(default = "size_param")]
        size_param: String,
        #[serde(default = "page_size")]
        size: u32,
        #[serde(default = "first_page")]
        first_page: u32,
    },
    /// The response carries the next cursor at `cursor_pointer`, sent back as
    /// `cursor_param`; no cursor ends the list.
    Cursor {
        cursor_param: String,
        cursor_pointer: String,
    },
    /// The response carries the next page's URL at `next_pointer`.
    NextUrl { next_pointer: String },
    /// The next page's URL is in the `Link: <…>; rel="next"` header (RFC 8288).
    LinkHeader,
}

fn offset_param() -> String {
    "offset".into()
}
fn limit_param() -> String {
    "limit".into()
}
fn page_param() -> String {
    "page".into()
}
fn size_param() -> String {
    "per_page".into()
}
fn page_size() -> u32 {
    100
}
fn first_page() -> u32 {
    1
}

/// Options of an `http_json` source.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpJson {
    /// GET or POST.
    #[serde(default = "get")]
    pub method: String,
    /// A JSON body for POST.
    pub body: Option<toml::Value>,
    /// Fixed query parameters.
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// Where the records array is, as a JSON Pointer ("" for a top-level array).
    #[serde(default)]
    pub records_pointer: String,
    pub pagination: Pagination,
}

fn get() -> String {
    "GET".into()
}

/// Character sets a CSV may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// UTF-8 (with or without BOM) when valid, Windows-1258 otherwise.
    #[default]
    Auto,
    #[serde(rename = "utf-8")]
    Utf8,
    #[serde(rename = "windows-1258")]
    Windows1258,
}

/// Options of a `csv` source.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Csv {
    /// Read from this file instead of the URL.
    pub file: Option<PathBuf>,
    #[serde(default = "comma")]
    pub delimiter: char,
    #[serde(default)]
    pub encoding: Encoding,
    /// `csv`, or `xlsx` for an Excel workbook; by default taken from the file or URL's
    /// extension.
    pub format: Option<TableFormat>,
    /// The worksheet of an XLSX file; the first one by default.
    pub sheet: Option<String>,
    /// Rows written per transaction.
    #[serde(default = "batch")]
    pub batch_size: usize,
}

/// The file formats of a `csv` source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TableFormat {
    Csv,
    Xlsx,
}

fn comma() -> char {
    ','
}
fn batch() -> usize {
    1_000
}

/// Options of a `ckan_datastore` source.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ckan {
    pub resource_id: Option<String>,
    /// The environment variable that holds the resource id.
    pub resource_id_env: Option<String>,
    #[serde(default = "ckan_page")]
    pub page_size: u32,
}

fn ckan_page() -> u32 {
    1_000
}

/// Options of an `epcis` source.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Epcis {
    #[serde(default = "epcis_page")]
    pub per_page: u32,
    /// Only these event types (`ObjectEvent`…); all when empty.
    #[serde(default)]
    pub event_types: Vec<String>,
}

fn epcis_page() -> u32 {
    500
}

/// How a value is read from the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Parse {
    /// Text as is.
    #[default]
    Text,
    /// A whole number.
    Int,
    /// A number of stars: 4, "4", "4 sao", "4*".
    Stars,
    /// A date: dd/mm/yyyy, d/m/yyyy, dd-mm-yyyy or yyyy-mm-dd.
    Date,
    /// A sum in VND: "1.500.000", "1,500,000 đ", 1500000.
    Vnd,
    /// A year, or the year of a date.
    Year,
    /// true/false, có/không, 1/0, x.
    Bool,
}

/// Where a field's value comes from: a column name (CSV, CKAN) or a JSON Pointer
/// (starting with `/`), optionally read with a parser.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum FieldSource {
    Column(String),
    Spec {
        from: String,
        #[serde(default)]
        parse: Parse,
    },
    Fixed {
        value: String,
    },
}

/// Links every imported record (or those matching `when`) to a plan task.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkRule {
    pub task: String,
    /// Only records whose mapped field (`stars`, `district`…) has this value.
    pub when_field: Option<String>,
    pub equals: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: Spanned<String>,
    kind: Spanned<SourceKind>,
    record_kind: Spanned<String>,
    #[serde(default)]
    description: Option<String>,
    schedule: Spanned<String>,
    #[serde(default = "yes")]
    enabled: bool,
    url: Option<Spanned<String>>,
    url_env: Option<Spanned<String>>,
    #[serde(default)]
    mode: Mode,
    auth: Option<Auth>,
    #[serde(default)]
    http: Http,
    http_json: Option<HttpJson>,
    csv: Option<Csv>,
    ckan: Option<Ckan>,
    epcis: Option<Epcis>,
    #[serde(default)]
    fields: BTreeMap<String, FieldSource>,
    #[serde(default)]
    links: Vec<LinkRule>,
    #[serde(default = "drift")]
    max_invalid_share: f64,
    #[serde(default = "pause_after")]
    pause_after_failures: u32,
}

fn yes() -> bool {
    true
}
fn drift() -> f64 {
    0.2
}
fn pause_after() -> u32 {
    3
}

/// The options of a definition's kind.
#[derive(Debug, Clone, PartialEq)]
pub enum KindOptions {
    HttpJson(HttpJson),
    Csv(Csv),
    Ckan(Ckan),
    Epcis(Epcis),
}

/// A checked connector definition.
#[derive(Debug, Clone)]
pub struct Definition {
    pub file: PathBuf,
    pub name: String,
    pub kind: SourceKind,
    pub record_kind: RecordKind,
    pub description: Option<String>,
    /// The cron expression as written.
    pub schedule_text: String,
    pub schedule: cron::Schedule,
    pub enabled: bool,
    pub url: Option<String>,
    pub url_env: Option<String>,
    pub mode: Mode,
    pub auth: Option<Auth>,
    pub http: Http,
    pub options: KindOptions,
    pub fields: BTreeMap<String, FieldSource>,
    pub links: Vec<LinkRule>,
    pub max_invalid_share: f64,
    pub pause_after_failures: u32,
}

/// The time zone schedules are read in.
pub const SCHEDULE_TZ: chrono_tz::Tz = chrono_tz::Asia::Ho_Chi_Minh;

impl Definition {
    /// The base URL, from the definition or its environment variable; `None` leaves the
    /// connector disabled.
    pub fn base_url(&self) -> Option<String> {
        if let Some(url) = &self.url {
            return Some(url.clone());
        }
        let name = self.url_env.as_deref()?;
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }

    /// Why the connector will not run, if it will not.
    pub fn disabled_reason(&self) -> Option<String> {
        if !self.enabled {
            return Some("disabled in its definition".into());
        }
        if self.base_url().is_none()
            && !matches!(&self.options, KindOptions::Csv(c) if c.file.is_some())
        {
            return Some(match &self.url_env {
                Some(name) => format!("set {name} to the registry's base URL to enable it"),
                None => "the definition names no url".into(),
            });
        }
        None
    }

    /// The next time the schedule fires after `after`.
    pub fn next_run_after(
        &self,
        after: chrono::DateTime<chrono::Utc>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        self.schedule
            .after(&after.with_timezone(&SCHEDULE_TZ))
            .next()
            .map(|at| at.with_timezone(&chrono::Utc))
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line where `key` is first set, for errors about values serde accepted.
fn line_of_key(text: &str, key: &str) -> usize {
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            line.starts_with(key) && line[key.len()..].trim_start().starts_with(['=', '.', ']'])
                || line == format!("[{key}]")
        })
        .map_or(1, |i| i + 1)
}

/// A definition file's path and text, to say where in it something is wrong.
struct DefinitionText<'a> {
    file: &'a Path,
    text: &'a str,
}

impl DefinitionText<'_> {
    fn error(&self, line: usize, key: &str, message: String) -> DefinitionError {
        DefinitionError {
            file: self.file.to_path_buf(),
            line,
            key: key.to_owned(),
            message,
        }
    }

    /// An error about a value whose place serde kept.
    fn at<T>(&self, value: &Spanned<T>, key: &str, message: String) -> DefinitionError {
        self.error(line_of(self.text, value.span().start), key, message)
    }

    /// An error about a key, placed where the key is first set.
    fn at_key(&self, key_in_text: &str, key: &str, message: String) -> DefinitionError {
        self.error(line_of_key(self.text, key_in_text), key, message)
    }

    fn toml_error(&self, error: &toml::de::Error) -> DefinitionError {
        let line = error
            .span()
            .map_or(1, |span| line_of(self.text, span.start));
        let message = error.message().to_owned();
        let key = message.split('`').nth(1).unwrap_or("(document)").to_owned();
        self.error(line, &key, message)
    }
}

/// Reads and checks one definition.
pub fn parse(file: &Path, text: &str) -> Result<Definition, DefinitionError> {
    let place = DefinitionText { file, text };
    let mut raw: Raw = toml::from_str(text).map_err(|error| place.toml_error(&error))?;
    let name = checked_name(&raw.name, &place)?;
    let record_kind = RecordKind::parse(raw.record_kind.get_ref())
        .map_err(|e| place.at(&raw.record_kind, "record_kind", e.to_string()))?;
    let (schedule_text, schedule) = checked_schedule(&raw.schedule, &place)?;
    if let Some(url) = &raw.url {
        check_url(url, &place)?;
    }
    let kind = *raw.kind.get_ref();
    let options = raw.take_options(&place)?;
    if kind == SourceKind::Epcis && record_kind != RecordKind::TraceabilityEntry {
        return Err(place.at(
            &raw.record_kind,
            "record_kind",
            "an epcis connector brings TRACEABILITY_ENTRY records".into(),
        ));
    }
    check_fields(&raw.fields, kind, record_kind, &place)?;
    check_limits(&raw, &place)?;
    Ok(Definition {
        file: file.to_path_buf(),
        name,
        kind,
        record_kind,
        description: raw.description,
        schedule_text,
        schedule,
        enabled: raw.enabled,
        url: raw.url.map(|u| u.into_inner()),
        url_env: raw.url_env.map(|u| u.into_inner()),
        mode: raw.mode,
        auth: raw.auth,
        http: raw.http,
        options,
        fields: raw.fields,
        links: raw.links,
        max_invalid_share: raw.max_invalid_share,
        pause_after_failures: raw.pause_after_failures.max(1),
    })
}

/// The connector's name: a lowercase slug.
fn checked_name(name: &Spanned<String>, place: &DefinitionText) -> Result<String, DefinitionError> {
    let name_text = name.get_ref().trim().to_owned();
    let slug = !name_text.is_empty()
        && name_text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !slug {
        return Err(place.at(
            name,
            "name",
            format!("{name_text:?} must be a lowercase slug (letters, digits, '-')"),
        ));
    }
    Ok(name_text)
}

/// The schedule as written and as parsed: five fields (minute precision) as in
/// crontab, or six with seconds.
fn checked_schedule(
    schedule: &Spanned<String>,
    place: &DefinitionText,
) -> Result<(String, cron::Schedule), DefinitionError> {
    let schedule_text = schedule.get_ref().trim().to_owned();
    let six = if schedule_text.split_whitespace().count() == 5 {
        format!("0 {schedule_text}")
    } else {
        schedule_text.clone()
    };
    let parsed = six.parse().map_err(|e| {
        place.at(
            schedule,
            "schedule",
            format!("{schedule_text:?} is not a cron expression: {e}"),
        )
    })?;
    Ok((schedule_text, parsed))
}

fn check_url(url: &Spanned<String>, place: &DefinitionText) -> Result<(), DefinitionError> {
    let text = url.get_ref();
    if text.starts_with("http://") || text.starts_with("https://") {
        return Ok(());
    }
    Err(place.at(url, "url", format!("{text:?} is not an http(s) URL")))
}

/// Every mapped field exists on the record kind, and the external id is mapped (EPCIS
/// events carry their own).
fn check_fields(
    fields: &BTreeMap<String, FieldSource>,
    kind: SourceKind,
    record_kind: RecordKind,
    place: &DefinitionText,
) -> Result<(), DefinitionError> {
    let known = crate::records::spec_of(record_kind).mappable();
    if let Some(target) = fields.keys().find(|target| !known.contains(target)) {
        return Err(place.at_key(
            target,
            &format!("fields.{target}"),
            format!(
                "{} records have no field {target:?}; known: {}",
                record_kind.type_name(),
                known.join(", ")
            ),
        ));
    }
    if kind != SourceKind::Epcis && !fields.contains_key("externalId") {
        return Err(place.at_key(
            "fields",
            "fields.externalId",
            "a mapping must say which source column is the record's external id".into(),
        ));
    }
    Ok(())
}

/// The drift threshold is a share, timeouts are positive and there is an attempt.
fn check_limits(raw: &Raw, place: &DefinitionText) -> Result<(), DefinitionError> {
    if !(0.0..=1.0).contains(&raw.max_invalid_share) {
        return Err(place.at_key(
            "max_invalid_share",
            "max_invalid_share",
            "must be between 0 and 1".into(),
        ));
    }
    if raw.http.max_attempts == 0
        || raw.http.timeout_secs <= 0.0
        || raw.http.connect_timeout_secs <= 0.0
    {
        return Err(place.at_key(
            "http",
            "http",
            "timeouts must be positive and max_attempts at least 1".into(),
        ));
    }
    Ok(())
}

impl Raw {
    /// The options section of the definition's kind; `csv` and `epcis` have defaults,
    /// the others must be given.
    fn take_options(&mut self, place: &DefinitionText) -> Result<KindOptions, DefinitionError> {
        let kind = *self.kind.get_ref();
        let missing = |section: &str| {
            place.at(
                &self.kind,
                section,
                format!("a {} connector needs a [{section}] section", kind.as_str()),
            )
        };
        Ok(match kind {
            SourceKind::HttpJson => {
                KindOptions::HttpJson(self.http_json.take().ok_or_else(|| missing("http_json"))?)
            }
            SourceKind::Csv => KindOptions::Csv(self.csv.take().unwrap_or(Csv {
                file: None,
                delimiter: ',',
                encoding: Encoding::Auto,
                format: None,
                sheet: None,
                batch_size: batch(),
            })),
            SourceKind::CkanDatastore => {
                KindOptions::Ckan(self.ckan.take().ok_or_else(|| missing("ckan"))?)
            }
            SourceKind::Epcis => KindOptions::Epcis(self.epcis.take().unwrap_or(Epcis {
                per_page: epcis_page(),
                event_types: Vec::new(),
            })),
        })
    }
}

/// Reads every `*.toml` in `dir`, in name order; a missing folder holds none.
pub fn load_dir(dir: &Path) -> Result<Vec<Definition>, DefinitionError> {
    let read_error = |path: &Path, e: std::io::Error| DefinitionError {
        file: path.to_path_buf(),
        line: 0,
        key: "(file)".into(),
        message: e.to_string(),
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(read_error(dir, e)),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut definitions: Vec<Definition> = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| read_error(&file, e))?;
        let definition = parse(&file, &text)?;
        if let Some(other) = definitions.iter().find(|d| d.name == definition.name) {
            return Err(DefinitionError {
                file: file.clone(),
                line: line_of_key(&text, "name"),
                key: "name".into(),
                message: format!(
                    "{:?} is already the name of {}",
                    definition.name,
                    other.file.display()
                ),
            });
        }
        definitions.push(definition);
    }
    Ok(definitions)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "ocop-ckan"
kind = "ckan_datastore"
record_kind = "OCOP_PRODUCT"
schedule = "0 2 * * *"
url_env = "KHCN_HUB_TEST_UNSET_URL"

[ckan]
resource_id = "abc"

[fields]
externalId = "ma_san_pham"
name = "ten_san_pham"
stars = { from = "so_sao", parse = "stars" }
"#;

    #[test]
    fn a_good_definition_is_read_and_waits_for_its_url() {
        let definition = parse(Path::new("ocop.toml"), GOOD).unwrap();
        assert_eq!(definition.name, "ocop-ckan");
        assert_eq!(definition.record_kind.as_str(), "OCOP_PRODUCT");
        assert!(
            definition
                .disabled_reason()
                .unwrap()
                .contains("KHCN_HUB_TEST_UNSET_URL")
        );
        // 02:00 in Hồ Chí Minh City is 19:00 UTC the day before.
        let after = chrono::DateTime::parse_from_rfc3339("2024-05-01T12:00:00Z")
            .unwrap()
            .to_utc();
        let next = definition.next_run_after(after).unwrap();
        assert_eq!(next.to_rfc3339(), "2024-05-01T19:00:00+00:00");
    }

    #[test]
    fn unknown_keys_name_the_file_line_and_key() {
        let text = GOOD.replace("[ckan]\n", "[ckan]\npagesize = 5\n");
        let error = parse(Path::new("connectors/ocop.toml"), &text).unwrap_err();
        assert_eq!(error.line, 9, "{error}");
        assert_eq!(error.key, "pagesize");
        assert!(
            error
                .to_string()
                .starts_with("connectors/ocop.toml:9: pagesize:"),
            "{error}"
        );
    }

    #[test]
    fn bad_values_name_their_key() {
        let error = parse(
            Path::new("a.toml"),
            &GOOD.replace("0 2 * * *", "every night"),
        )
        .unwrap_err();
        assert_eq!((error.key.as_str(), error.line), ("schedule", 5), "{error}");
        let error = parse(Path::new("a.toml"), &GOOD.replace("OCOP_PRODUCT", "OCOP")).unwrap_err();
        assert_eq!(error.key, "record_kind");
        let error = parse(
            Path::new("a.toml"),
            &GOOD.replace("name = \"ten_san_pham\"", "title = \"x\""),
        )
        .unwrap_err();
        assert_eq!(
            (error.key.as_str(), error.line),
            ("fields.title", 13),
            "{error}"
        );
        let error = parse(
            Path::new("a.toml"),
            &GOOD.replace("kind = \"ckan_datastore\"", "kind = \"ftp\""),
        )
        .unwrap_err();
        assert_eq!(error.line, 3, "{error}");
    }
}
