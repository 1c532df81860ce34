//! The yearly report section IV.2 of the plan asks for: every obliged body reports its
//! results to the Department of Science and Technology before 15 December, and the
//! Department consolidates them for the Provincial People's Committee.
//!
//! The report is built from the hub's data only: [`query`] asks the GraphQL API for
//! everything a report shows (as the caller, so it shows what the caller may read), and
//! [`build`] turns the answer into a [`Document`]. Where figures are missing, the
//! document says so ([`NO_DATA`]) instead of leaving a gap. No sentence is written that
//! the data do not state; the fixed words are headings, column titles and labels.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::domain::records::RecordKind;
use crate::records::spec::FieldValue;

use super::document::{
    Align, Block, Closing, Column, Document, Header, HeadingLevel, NO_DATA, Signature, Span, Table,
    Title,
};

/// The plan the report is about.
pub const PLAN: &str = "136/KH-UBND";

/// The selection of one page of startups, shared by both documents.
macro_rules! supported_page {
    () => {
        "pageInfo { hasNextPage endCursor } \
         nodes { name district supportEvents { year kind amountVnd } }"
    };
}

/// Everything a yearly report shows, in one GraphQL document ([`query`] fills in
/// `CONTRIBUTING`); [`STARTUPS_PAGE`] reads the further pages of startups (the one list
/// that can be longer than a page).
const QUERY: &str = concat!(
    r#"
query YearlyReport($plan: String!, $year: Int!, $asOf: Date, $agency: String!) {
  scopeAgency: agency(code: $agency) { code name }
  plan(code: $plan) {
    code title issuedOn issuer
    sections {
      numeral title
      tasks {
        code text leadText coordinatorsText status progressNote progressEvidence
        leadAgency { code name }
        coordinators { ... on Agency { code } }
        linkedRecordCounts { kind count }
      }
    }
    targets {
      key description targetValue unit actualValue progress onTrack(asOf: $asOf)
      contributingRecords(first: 5) { CONTRIBUTING }
      breakdown { key count records countsTowardsTarget }
    }
  }
  ocop: ocopProductsAggregate(groupBy: [DISTRICT, STARS]) { keys { value label } count }
  ipRights(first: 500, orderBy: [{ field: NAME, direction: ASC }]) {
    nodes { name kind product jurisdiction number status filedOn registeredOn }
  }
  startups(first: 500) { "#,
    supported_page!(),
    r#" }
  traceabilityByYear: traceabilityEntriesAggregate(groupBy: [EVENT_TIME_YEAR]) {
    keys { value } count
  }
  traceabilityByGtin: traceabilityEntriesAggregate(groupBy: [GTIN]) { keys { value } count }
  traceabilityByArea: traceabilityEntriesAggregate(groupBy: [GROWING_AREA_CODE]) {
    keys { value } count
  }
  annualReports(year: $year, first: 500) {
    nodes { agency { code name } submittedOn onTime summary }
  }
  overdueReports(year: $year, plan: $plan, asOf: $asOf) { code name }
  ceasedBodies: reportingObligations(year: $year, asOf: $asOf, status: [CEASED]) {
    agency { code name } ceasedOn successor { name }
  }
}
"#
);

/// The report's GraphQL document. A contributing record is named by the field each kind
/// shows as its search title, aliased `title`, so every kind of the registry is covered.
pub fn query() -> String {
    let titles: Vec<String> = RecordKind::ALL
        .iter()
        .filter_map(|kind| {
            let spec = crate::records::spec_of(*kind);
            let field = spec.fields.iter().find(|f| {
                matches!(
                    f.value,
                    FieldValue::Column { column, .. } if column == spec.search.title
                )
            })?;
            Some(format!(
                "... on {} {{ title: {} }}",
                kind.type_name(),
                field.name
            ))
        })
        .collect();
    QUERY.replace("CONTRIBUTING", &titles.join(" "))
}

/// The next page of startups, after `$after`.
pub const STARTUPS_PAGE: &str = concat!(
    "query YearlyReportSupported($after: String) { startups(first: 500, after: $after) { ",
    supported_page!(),
    " } }"
);

/// The day targets and owing bodies are read on: the reporting deadline of the year,
/// so the same data always give the same document.
pub fn as_of(year: i32) -> String {
    format!(
        "{year:04}-{:02}-{:02}",
        crate::domain::reporting::DUE_MONTH,
        crate::domain::reporting::DUE_DAY
    )
}

/// The GraphQL answer to [`query`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportData {
    /// The agency named by `$agency`, for one agency's report.
    pub scope_agency: Option<AgencyRef>,
    pub plan: Option<PlanData>,
    #[serde(default)]
    pub ocop: Vec<AggregateRow>,
    pub ip_rights: Nodes<IpRight>,
    pub startups: Page<SupportedFirm>,
    #[serde(default)]
    pub traceability_by_year: Vec<AggregateRow>,
    #[serde(default)]
    pub traceability_by_gtin: Vec<AggregateRow>,
    #[serde(default)]
    pub traceability_by_area: Vec<AggregateRow>,
    pub annual_reports: Nodes<AnnualReport>,
    #[serde(default)]
    pub overdue_reports: Vec<AgencyRef>,
    /// Bodies that ceased during the year before the deadline: they owe nothing.
    #[serde(default)]
    pub ceased_bodies: Vec<CeasedBody>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CeasedBody {
    pub agency: AgencyRef,
    pub ceased_on: String,
    pub successor: Option<SuccessorRef>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SuccessorRef {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanData {
    pub code: String,
    pub title: String,
    pub issued_on: String,
    pub issuer: String,
    pub sections: Vec<SectionData>,
    pub targets: Vec<TargetData>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SectionData {
    pub numeral: String,
    pub title: String,
    pub tasks: Vec<TaskData>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskData {
    pub code: String,
    pub text: String,
    pub lead_text: Option<String>,
    pub coordinators_text: Option<String>,
    pub status: Option<String>,
    pub progress_note: Option<String>,
    #[serde(default)]
    pub progress_evidence: Vec<String>,
    pub lead_agency: Option<AgencyRef>,
    /// A group (no fields asked) may come back as null or `{}`.
    #[serde(default)]
    pub coordinators: Vec<Option<PartyRef>>,
    #[serde(default)]
    pub linked_record_counts: Vec<KindCount>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct KindCount {
    pub kind: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AgencyRef {
    pub code: String,
    pub name: String,
}

/// A coordinator agency, by its code.
#[derive(Debug, Clone, Deserialize)]
pub struct PartyRef {
    pub code: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetData {
    pub key: String,
    pub description: String,
    pub target_value: Option<i64>,
    pub unit: Option<String>,
    pub actual_value: i64,
    pub progress: f64,
    pub on_track: bool,
    #[serde(default)]
    pub contributing_records: Vec<RecordTitle>,
    #[serde(default)]
    pub breakdown: Vec<BreakdownData>,
}

/// One line of what a target's figure is made of (`Target.breakdown`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BreakdownData {
    pub key: Option<String>,
    pub count: i64,
    pub records: i64,
    pub counts_towards_target: bool,
}

/// A record named by its kind's title field (see [`query`]).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RecordTitle {
    pub title: Option<String>,
}

impl RecordTitle {
    fn text(&self) -> Option<&str> {
        self.title.as_deref()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct AggregateRow {
    pub keys: Vec<AggregateKey>,
    pub count: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AggregateKey {
    pub value: Option<String>,
    pub label: Option<String>,
}

impl AggregateKey {
    fn shown(&self) -> Option<&str> {
        self.label.as_deref().or(self.value.as_deref())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(bound = "T: Deserialize<'de>")]
pub struct Nodes<T> {
    pub nodes: Vec<T>,
}

impl<T> Default for Nodes<T> {
    fn default() -> Self {
        Self { nodes: Vec::new() }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", bound = "T: Deserialize<'de>")]
pub struct Page<T> {
    pub page_info: PageInfo,
    pub nodes: Vec<T>,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Self {
            page_info: PageInfo::default(),
            nodes: Vec::new(),
        }
    }
}

/// The answer to [`STARTUPS_PAGE`].
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SupportedPage {
    pub startups: Page<SupportedFirm>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IpRight {
    pub name: String,
    pub kind: Option<String>,
    pub product: Option<String>,
    pub jurisdiction: String,
    pub number: Option<String>,
    pub status: Option<String>,
    pub filed_on: Option<String>,
    pub registered_on: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SupportedFirm {
    pub name: String,
    pub district: Option<String>,
    #[serde(default)]
    pub support_events: Vec<SupportEvent>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SupportEvent {
    pub year: i32,
    pub kind: String,
    /// A BigInt, served as a string or a number.
    pub amount_vnd: Option<serde_json::Value>,
}

impl SupportEvent {
    fn amount(&self) -> Option<i64> {
        match self.amount_vnd.as_ref()? {
            serde_json::Value::Number(n) => n.as_i64(),
            serde_json::Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnnualReport {
    pub agency: Option<AgencyRef>,
    pub submitted_on: Option<String>,
    pub on_time: bool,
    pub summary: Option<String>,
}

impl ReportData {
    /// Adds the next page of startups (the same query with `$after`) to this answer.
    pub fn extend_startups(&mut self, next: Page<SupportedFirm>) {
        self.startups.nodes.extend(next.nodes);
        self.startups.page_info = next.page_info;
    }
}

/// Whose report: the consolidated one, or one obliged body's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Plan,
    Agency(AgencyRef),
}

/// The report for `year` from `data`.
pub fn build(data: &ReportData, year: i32, scope: &Scope) -> Document {
    let mut body = Vec::new();
    body.push(Block::paragraph(introduction(data, year, scope)));
    body.push(Block::heading(HeadingLevel::One, "I. KẾT QUẢ THỰC HIỆN"));
    body.push(Block::heading(
        HeadingLevel::Two,
        "1. Kết quả thực hiện các nhiệm vụ",
    ));
    body.extend(tasks(data, scope));
    body.push(Block::heading(
        HeadingLevel::Two,
        "2. Kết quả thực hiện các chỉ tiêu chủ yếu",
    ));
    body.extend(targets(data));
    body.push(Block::heading(
        HeadingLevel::Two,
        "3. Sản phẩm OCOP theo huyện và số sao",
    ));
    body.extend(ocop(data));
    body.push(Block::heading(
        HeadingLevel::Two,
        "4. Chỉ dẫn địa lý, nhãn hiệu chứng nhận, nhãn hiệu tập thể theo nơi bảo hộ",
    ));
    body.extend(ip_rights(data));
    body.push(Block::heading(
        HeadingLevel::Two,
        format!("5. Doanh nghiệp khởi nghiệp đổi mới sáng tạo được hỗ trợ năm {year}"),
    ));
    body.extend(startups(data, year));
    body.push(Block::heading(HeadingLevel::Two, "6. Truy xuất nguồn gốc"));
    body.extend(traceability(data, year));
    body.push(Block::heading(
        HeadingLevel::One,
        format!("II. BÁO CÁO CỦA CÁC CƠ QUAN, ĐƠN VỊ NĂM {year}"),
    ));
    body.extend(submitted(data, scope));
    body.push(Block::heading(
        HeadingLevel::One,
        "III. CƠ QUAN, ĐƠN VỊ CHƯA NỘP BÁO CÁO",
    ));
    body.extend(not_submitted(data, scope));
    Document {
        header: header(year, scope),
        title: Title::report(format!("Kết quả thực hiện Kế hoạch số {PLAN} năm {year}")),
        body,
        closing: closing(scope),
    }
}

fn header(year: i32, scope: &Scope) -> Header {
    let (issuing_body, number) = match scope {
        Scope::Plan => (
            "SỞ KHOA HỌC VÀ CÔNG NGHỆ".to_owned(),
            "Số:        /BC-SKHCN",
        ),
        Scope::Agency(agency) => (agency.name.to_uppercase(), "Số:        /BC-"),
    };
    Header::new(
        "UBND TỈNH ĐỒNG THÁP",
        issuing_body,
        number,
        format!("Đồng Tháp, ngày      tháng      năm {year}"),
    )
}

fn closing(scope: &Scope) -> Closing {
    let recipients = match scope {
        Scope::Plan => vec!["UBND Tỉnh;".to_owned(), "Lưu: VT.".to_owned()],
        Scope::Agency(_) => vec![
            "Sở Khoa học và Công nghệ;".to_owned(),
            "Lưu: VT.".to_owned(),
        ],
    };
    Closing {
        recipients,
        signature: Signature {
            title_lines: Vec::new(),
            signer: None,
        },
    }
}

fn introduction(data: &ReportData, year: i32, scope: &Scope) -> String {
    let who = match scope {
        Scope::Plan => "Sở Khoa học và Công nghệ".to_owned(),
        Scope::Agency(agency) => agency.name.clone(),
    };
    match &data.plan {
        Some(plan) => format!(
            "Thực hiện Kế hoạch số {} ngày {} của {} về {}, {} báo cáo kết quả thực hiện năm {year} như sau:",
            plan.code,
            vietnamese_date(&plan.issued_on),
            plan.issuer,
            lower_first(&plan.title),
            who
        ),
        None => format!("Kế hoạch số {PLAN}: {NO_DATA}"),
    }
}

/// "2022-04-21" → "21/4/2022"; anything else as given.
fn vietnamese_date(date: &str) -> String {
    let parts: Vec<&str> = date.split('-').collect();
    match parts.as_slice() {
        [y, m, d] => format!(
            "{}/{}/{y}",
            d.trim_start_matches('0'),
            m.trim_start_matches('0')
        ),
        _ => date.to_owned(),
    }
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn involves(task: &TaskData, agency: &AgencyRef) -> Option<&'static str> {
    if task
        .lead_agency
        .as_ref()
        .is_some_and(|lead| lead.code == agency.code)
    {
        return Some("Chủ trì");
    }
    task.coordinators
        .iter()
        .flatten()
        .any(|c| c.code.as_deref() == Some(agency.code.as_str()))
        .then_some("Phối hợp")
}

fn or_no_data(text: Option<&str>) -> String {
    match text.map(str::trim) {
        Some(text) if !text.is_empty() => text.to_owned(),
        _ => NO_DATA.to_owned(),
    }
}

fn tasks(data: &ReportData, scope: &Scope) -> Vec<Block> {
    let Some(plan) = &data.plan else {
        return vec![Block::no_data()];
    };
    let mut blocks = Vec::new();
    for section in &plan.sections {
        let tasks: Vec<(&TaskData, Option<&str>)> = section
            .tasks
            .iter()
            .filter_map(|task| match scope {
                Scope::Plan => Some((task, None)),
                Scope::Agency(agency) => involves(task, agency).map(|role| (task, Some(role))),
            })
            .collect();
        if tasks.is_empty() {
            continue;
        }
        blocks.push(Block::heading(
            HeadingLevel::Three,
            format!("{}. {}", section.numeral, section.title),
        ));
        for (task, role) in tasks {
            blocks.extend(task_blocks(task, role));
        }
    }
    if blocks.is_empty() {
        blocks.push(Block::no_data());
    }
    blocks
}

fn task_blocks(task: &TaskData, role: Option<&str>) -> Vec<Block> {
    let mut heading = vec![
        Span::bold(format!("{} ", task.code)),
        Span::plain(&task.text),
    ];
    if let Some(role) = role {
        heading.push(Span::italic(format!(" ({role})")));
    }
    let mut blocks = vec![Block::Paragraph(heading)];
    let lead = task
        .lead_agency
        .as_ref()
        .map(|a| a.name.as_str())
        .or(task.lead_text.as_deref());
    blocks.push(labelled("Cơ quan chủ trì: ", or_no_data(lead)));
    if let Some(coordinators) = task.coordinators_text.as_deref() {
        blocks.push(labelled("Cơ quan phối hợp: ", coordinators.to_owned()));
    }
    blocks.push(labelled(
        "Tình trạng: ",
        or_no_data(task.status.as_deref().map(status_label)),
    ));
    blocks.push(labelled(
        "Kết quả: ",
        or_no_data(task.progress_note.as_deref()),
    ));
    if !task.progress_evidence.is_empty() {
        blocks.push(labelled("Minh chứng: ", task.progress_evidence.join("; ")));
    }
    let counts: Vec<String> = task
        .linked_record_counts
        .iter()
        .filter(|c| c.count > 0)
        .map(|c| format!("{}: {}", kind_label(&c.kind), c.count))
        .collect();
    blocks.push(labelled(
        "Hồ sơ liên kết: ",
        if counts.is_empty() {
            NO_DATA.to_owned()
        } else {
            counts.join("; ")
        },
    ));
    blocks
}

fn labelled(label: &str, text: String) -> Block {
    Block::Item {
        marker: super::document::Marker::Dash,
        text: vec![Span::italic(label), Span::plain(text)],
    }
}

/// A task's status as the report names it.
fn status_label(status: &str) -> &str {
    match status {
        "NOT_STARTED" => "Chưa triển khai",
        "IN_PROGRESS" => "Đang thực hiện",
        "COMPLETED" => "Hoàn thành",
        "DELAYED" => "Chậm tiến độ",
        other => other,
    }
}

/// A record kind as the report names it.
pub fn kind_label(kind: &str) -> &str {
    match kind {
        "IP_RIGHT" => "Chỉ dẫn địa lý, nhãn hiệu",
        "OCOP_PRODUCT" => "Sản phẩm OCOP",
        "STARTUP" => "Doanh nghiệp khởi nghiệp",
        "TRACEABILITY_ENTRY" => "Truy xuất nguồn gốc",
        "SCIENCE_TASK" => "Nhiệm vụ KH&CN",
        "APPLICATION_MODEL" => "Mô hình ứng dụng",
        "TECHNOLOGY_ASSESSMENT" => "Đánh giá trình độ công nghệ",
        "ANNUAL_REPORT" => "Báo cáo định kỳ",
        other => other,
    }
}

fn targets(data: &ReportData) -> Vec<Block> {
    let Some(plan) = data.plan.as_ref().filter(|p| !p.targets.is_empty()) else {
        return vec![Block::no_data()];
    };
    let rows = plan
        .targets
        .iter()
        .map(|t| {
            let target = match (t.target_value, t.unit.as_deref()) {
                (Some(value), Some(unit)) => format!("{value} {unit}"),
                (Some(value), None) => value.to_string(),
                (None, _) => NO_DATA.to_owned(),
            };
            let records: Vec<&str> = t
                .contributing_records
                .iter()
                .filter_map(RecordTitle::text)
                .collect();
            let mut contributing = records.join("; ");
            if (records.len() as i64) < t.actual_value {
                contributing.push_str(if records.is_empty() { "…" } else { "; …" });
            }
            vec![
                t.description.clone(),
                target,
                t.actual_value.to_string(),
                percent(t.progress),
                if t.on_track {
                    "Đúng tiến độ"
                } else {
                    "Chậm tiến độ"
                }
                .to_owned(),
                if contributing.is_empty() {
                    NO_DATA.to_owned()
                } else {
                    contributing
                },
            ]
        })
        .collect();
    let mut blocks = vec![Block::Table(Table {
        columns: vec![
            Column::new("Chỉ tiêu", 30, Align::Left),
            Column::new("Mục tiêu", 10, Align::Center),
            Column::new("Thực hiện", 9, Align::Center),
            Column::new("Tỷ lệ", 8, Align::Center),
            Column::new("Tiến độ", 11, Align::Center),
            Column::new("Hồ sơ đóng góp", 32, Align::Left),
        ],
        rows,
        total: None,
    })];
    for target in &plan.targets {
        blocks.extend(breakdown(target));
    }
    blocks
}

/// The lines behind `IP_ABROAD` (granted and only filed) and `TECHNOLOGY_ASSESSMENT`
/// (coverage by industry), as the API states them.
fn breakdown(target: &TargetData) -> Vec<Block> {
    let lines: Vec<String> = match target.key.as_str() {
        "IP_ABROAD" => target
            .breakdown
            .iter()
            .map(|row| {
                let what = match row.key.as_deref() {
                    Some("GRANTED") => "Sản phẩm đã được cấp văn bằng bảo hộ ở nước ngoài",
                    Some("FILED") => "Sản phẩm đã nộp đơn ở nước ngoài, chưa được cấp",
                    _ => "Khác",
                };
                let counts = if row.counts_towards_target {
                    "tính vào chỉ tiêu"
                } else {
                    "chưa tính vào chỉ tiêu"
                };
                format!("{what}: {} ({} hồ sơ; {counts})", row.count, row.records)
            })
            .collect(),
        "TECHNOLOGY_ASSESSMENT" => target
            .breakdown
            .iter()
            .map(|row| {
                let industry = row.key.as_deref().unwrap_or("Chưa rõ ngành");
                let key = if row.counts_towards_target {
                    "; ngành công nghiệp chủ lực"
                } else {
                    ""
                };
                format!(
                    "{industry}: {} doanh nghiệp ({} lượt đánh giá{key})",
                    row.count, row.records
                )
            })
            .collect(),
        _ => return Vec::new(),
    };
    let heading = match target.key.as_str() {
        "IP_ABROAD" => "Chỉ tiêu đăng ký bảo hộ ra nước ngoài, theo tình trạng:",
        _ => "Chỉ tiêu đánh giá trình độ công nghệ, theo ngành:",
    };
    let mut blocks = vec![Block::paragraph(heading)];
    if lines.is_empty() {
        blocks.push(Block::no_data());
    }
    blocks.extend(lines.into_iter().map(Block::dash));
    blocks
}

fn percent(ratio: f64) -> String {
    format!("{}%", (ratio * 100.0).round() as i64)
}

fn ocop(data: &ReportData) -> Vec<Block> {
    if data.ocop.is_empty() {
        return vec![Block::no_data()];
    }
    let mut stars: Vec<String> = Vec::new();
    let mut by_district: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for row in &data.ocop {
        let district = row
            .keys
            .first()
            .and_then(AggregateKey::shown)
            .unwrap_or("Chưa rõ huyện")
            .to_owned();
        let star = row
            .keys
            .get(1)
            .and_then(|k| k.value.clone())
            .unwrap_or_else(|| "?".to_owned());
        if !stars.contains(&star) {
            stars.push(star.clone());
        }
        *by_district
            .entry(district)
            .or_default()
            .entry(star)
            .or_default() += row.count;
    }
    stars.sort();
    let mut columns = vec![Column::new("Huyện, thành phố", 40, Align::Left)];
    columns.extend(
        stars
            .iter()
            .map(|s| Column::new(format!("{s} sao"), 12, Align::Right)),
    );
    columns.push(Column::new("Tổng", 12, Align::Right));
    let mut totals = vec![0i64; stars.len() + 1];
    let rows = by_district
        .into_iter()
        .map(|(district, counts)| {
            let mut row = vec![district];
            let mut sum = 0;
            for (i, star) in stars.iter().enumerate() {
                let n = counts.get(star).copied().unwrap_or(0);
                totals[i] += n;
                sum += n;
                row.push(n.to_string());
            }
            if let Some(total) = totals.last_mut() {
                *total += sum;
            }
            row.push(sum.to_string());
            row
        })
        .collect();
    let mut total = vec!["Tổng cộng".to_owned()];
    total.extend(totals.iter().map(i64::to_string));
    vec![Block::Table(Table {
        columns,
        rows,
        total: Some(total),
    })]
}

fn ip_rights(data: &ReportData) -> Vec<Block> {
    if data.ip_rights.nodes.is_empty() {
        return vec![Block::no_data()];
    }
    let mut by_place: BTreeMap<&str, Vec<&IpRight>> = BTreeMap::new();
    for right in &data.ip_rights.nodes {
        by_place.entry(&right.jurisdiction).or_default().push(right);
    }
    let mut blocks = Vec::new();
    for (place, rights) in by_place {
        blocks.push(Block::Paragraph(vec![Span::bold(format!(
            "Nơi bảo hộ: {}",
            jurisdiction_label(place)
        ))]));
        for right in rights {
            let mut facts = Vec::new();
            if let Some(kind) = &right.kind {
                facts.push(ip_kind_label(kind).to_owned());
            }
            if let Some(product) = &right.product {
                facts.push(format!("sản phẩm: {product}"));
            }
            facts.push(format!(
                "tình trạng: {}",
                or_no_data(right.status.as_deref().map(ip_status_label))
            ));
            if let Some(number) = &right.number {
                facts.push(format!("số văn bằng: {number}"));
            }
            if let Some(filed) = &right.filed_on {
                facts.push(format!("nộp đơn: {}", vietnamese_date(filed)));
            }
            if let Some(registered) = &right.registered_on {
                facts.push(format!("cấp: {}", vietnamese_date(registered)));
            }
            blocks.push(Block::Item {
                marker: super::document::Marker::Dash,
                text: vec![
                    Span::plain(format!("{}: ", right.name)),
                    Span::plain(facts.join("; ")),
                ],
            });
        }
    }
    blocks
}

fn jurisdiction_label(code: &str) -> String {
    match code {
        "VN" => "Việt Nam (VN)".to_owned(),
        "JP" => "Nhật Bản (JP)".to_owned(),
        other => other.to_owned(),
    }
}

fn ip_kind_label(kind: &str) -> &str {
    match kind {
        "GEOGRAPHICAL_INDICATION" => "chỉ dẫn địa lý",
        "CERTIFICATION_MARK" => "nhãn hiệu chứng nhận",
        "COLLECTIVE_MARK" => "nhãn hiệu tập thể",
        other => other,
    }
}

fn ip_status_label(status: &str) -> &str {
    match status {
        "FILED" => "đã nộp đơn",
        "REGISTERED" => "đã được cấp văn bằng",
        "EXPIRED" => "hết hiệu lực",
        "REFUSED" => "bị từ chối",
        other => other,
    }
}

fn startups(data: &ReportData, year: i32) -> Vec<Block> {
    let mut rows = Vec::new();
    let mut total_amount = 0i64;
    let mut amounts_known = true;
    for startup in &data.startups.nodes {
        for event in startup.support_events.iter().filter(|e| e.year == year) {
            let amount = event.amount();
            match amount {
                Some(a) => total_amount += a,
                None => amounts_known = false,
            }
            rows.push(vec![
                startup.name.clone(),
                or_no_data(startup.district.as_deref()),
                event.kind.clone(),
                amount.map_or_else(|| NO_DATA.to_owned(), group_thousands),
            ]);
        }
    }
    if rows.is_empty() {
        return vec![Block::no_data()];
    }
    let supported = {
        let mut names: Vec<&String> = rows.iter().map(|r| &r[0]).collect();
        names.sort();
        names.dedup();
        names.len()
    };
    let total = vec![
        format!("Tổng cộng: {supported} doanh nghiệp"),
        String::new(),
        String::new(),
        if amounts_known {
            group_thousands(total_amount)
        } else {
            format!("{} (chưa đủ số liệu)", group_thousands(total_amount))
        },
    ];
    vec![Block::Table(Table {
        columns: vec![
            Column::new("Doanh nghiệp", 38, Align::Left),
            Column::new("Huyện, thành phố", 20, Align::Left),
            Column::new("Hình thức hỗ trợ", 22, Align::Left),
            Column::new("Kinh phí (đồng)", 20, Align::Right),
        ],
        rows,
        total: Some(total),
    })]
}

/// 1500000 → "1.500.000", as Vietnamese writes amounts.
fn group_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn traceability(data: &ReportData, year: i32) -> Vec<Block> {
    let all: i64 = data.traceability_by_year.iter().map(|r| r.count).sum();
    if all == 0 {
        return vec![Block::no_data()];
    }
    let this_year: i64 = data
        .traceability_by_year
        .iter()
        .filter(|r| r.keys.first().and_then(|k| k.value.as_deref()) == Some(&year.to_string()))
        .map(|r| r.count)
        .sum();
    let known = |rows: &[AggregateRow]| {
        rows.iter()
            .filter(|r| r.keys.first().is_some_and(|k| k.value.is_some()))
            .count()
    };
    vec![Block::Table(Table {
        columns: vec![
            Column::new("Nội dung", 70, Align::Left),
            Column::new("Số lượng", 30, Align::Right),
        ],
        rows: vec![
            vec!["Sự kiện truy xuất đã ghi nhận".to_owned(), all.to_string()],
            vec![format!("Trong đó, năm {year}"), this_year.to_string()],
            vec![
                "Sản phẩm (mã GTIN) được truy xuất".to_owned(),
                known(&data.traceability_by_gtin).to_string(),
            ],
            vec![
                "Mã số vùng trồng được truy xuất".to_owned(),
                known(&data.traceability_by_area).to_string(),
            ],
        ],
        total: None,
    })]
}

fn submitted(data: &ReportData, scope: &Scope) -> Vec<Block> {
    let reports: Vec<&AnnualReport> = data
        .annual_reports
        .nodes
        .iter()
        .filter(|r| match scope {
            Scope::Plan => true,
            Scope::Agency(agency) => r.agency.as_ref().is_some_and(|a| a.code == agency.code),
        })
        .collect();
    if reports.is_empty() {
        return vec![Block::no_data()];
    }
    let mut blocks = Vec::new();
    for report in reports {
        let who = report
            .agency
            .as_ref()
            .map_or("Chưa rõ cơ quan", |a| a.name.as_str());
        let when = report
            .submitted_on
            .as_deref()
            .map_or_else(|| NO_DATA.to_owned(), vietnamese_date);
        blocks.push(Block::Paragraph(vec![
            Span::bold(format!("{who}: ")),
            Span::plain(format!(
                "nộp ngày {when}{}",
                if report.on_time { "" } else { " (quá hạn)" }
            )),
        ]));
        match report.summary.as_deref().map(str::trim) {
            Some(summary) if !summary.is_empty() => blocks.push(Block::quote(summary)),
            _ => blocks.push(Block::no_data()),
        }
    }
    blocks
}

fn not_submitted(data: &ReportData, scope: &Scope) -> Vec<Block> {
    let owing: Vec<&AgencyRef> = data
        .overdue_reports
        .iter()
        .filter(|a| match scope {
            Scope::Plan => true,
            Scope::Agency(agency) => a.code == agency.code,
        })
        .collect();
    let mut blocks: Vec<Block> = if owing.is_empty() {
        vec![Block::paragraph("Không có.")]
    } else {
        owing
            .into_iter()
            .map(|agency| Block::dash(agency.name.clone()))
            .collect()
    };
    if matches!(scope, Scope::Plan) && !data.ceased_bodies.is_empty() {
        blocks.push(Block::paragraph(
            "Cơ quan đã chấm dứt hoạt động trước hạn báo cáo, không còn phải báo cáo:",
        ));
        blocks.extend(data.ceased_bodies.iter().map(|body| {
            let mut line = format!(
                "{} (đến ngày {})",
                body.agency.name,
                vietnamese_date(&body.ceased_on)
            );
            if let Some(successor) = &body.successor {
                line = format!("{line}; chuyển giao cho {}", successor.name);
            }
            Block::dash(line)
        }));
    }
    blocks
}
