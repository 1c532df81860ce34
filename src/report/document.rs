//! The report as plain data: what a caller builds and both renderers read.
//!
//! The parts follow the layout of an administrative document in Decree 30/2020/NĐ-CP:
//! the two-column header (issuing body | national name and motto), the title, the body,
//! and the closing (recipients | signature). Text is Unicode; the renderers write it in
//! NFC, and a `'\n'` in any text is a line break that is kept.

use unicode_normalization::UnicodeNormalization;

use super::error::RenderError;

/// The national name, in the right column of every header.
pub const NATIONAL_NAME: &str = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM";
/// The motto under the national name.
pub const MOTTO: &str = "Độc lập - Tự do - Hạnh phúc";
/// The kind of document this hub drafts.
pub const REPORT: &str = "BÁO CÁO";
/// The label above the recipients.
pub const RECIPIENTS_LABEL: &str = "Nơi nhận:";
/// What a section without figures says.
pub const NO_DATA: &str = "Chưa có số liệu.";

/// A whole report: header, title, body and closing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub header: Header,
    pub title: Title,
    pub body: Vec<Block>,
    pub closing: Closing,
}

/// The two-column block at the top of the first page, without borders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Left, upper case: the body the issuer belongs to ("UBND TỈNH ĐỒNG THÁP").
    pub parent_body: String,
    /// Left, bold upper case, a short rule under it ("SỞ KHOA HỌC VÀ CÔNG NGHỆ").
    pub issuing_body: String,
    /// Left: number and symbol, the number left blank for the clerk ("Số:        /BC-SKHCN").
    pub number: String,
    /// Right, bold upper case: [`NATIONAL_NAME`].
    pub national_name: String,
    /// Right, bold, a rule under it as long as the text: [`MOTTO`].
    pub motto: String,
    /// Right, italic: "Đồng Tháp, ngày      tháng      năm 2025".
    pub place_and_date: String,
}

impl Header {
    /// A header with the national name and motto filled in.
    pub fn new(
        parent_body: impl Into<String>,
        issuing_body: impl Into<String>,
        number: impl Into<String>,
        place_and_date: impl Into<String>,
    ) -> Self {
        Self {
            parent_body: parent_body.into(),
            issuing_body: issuing_body.into(),
            number: number.into(),
            national_name: NATIONAL_NAME.to_owned(),
            motto: MOTTO.to_owned(),
            place_and_date: place_and_date.into(),
        }
    }
}

/// The document's name ("BÁO CÁO") and its subject, both bold and centred.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title {
    /// Written in upper case.
    pub kind: String,
    /// One entry per line, e.g. "Kết quả thực hiện Kế hoạch số 136/KH-UBND năm 2024".
    pub subject: Vec<String>,
}

impl Title {
    /// A "BÁO CÁO" with a one-line subject.
    pub fn report(subject: impl Into<String>) -> Self {
        Self {
            kind: REPORT.to_owned(),
            subject: vec![subject.into()],
        }
    }

    /// The title as one line, for document metadata ("BÁO CÁO Kết quả …").
    pub fn one_line(&self) -> String {
        let mut parts = vec![self.kind.as_str()];
        parts.extend(self.subject.iter().map(String::as_str));
        parts.join(" ").replace('\n', " ")
    }
}

/// One piece of the body, in reading order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// "I. …" (level 1), "1. …" (level 2), "1.1. …" or "a) …" (level 3); the caller
    /// writes the numbering into the text.
    Heading {
        level: HeadingLevel,
        text: String,
    },
    /// Justified, first line indented.
    Paragraph(Vec<Span>),
    /// A paragraph that starts with a marker ("- …").
    Item {
        marker: Marker,
        text: Vec<Span>,
    },
    /// An agency's text cited as written: italic, indented on both sides.
    Quote(String),
    Table(Table),
    /// A note that figures are missing ([`NO_DATA`]), set apart in italics.
    NoData(String),
}

impl Block {
    pub fn heading(level: HeadingLevel, text: impl Into<String>) -> Self {
        Self::Heading {
            level,
            text: text.into(),
        }
    }

    /// A paragraph of plain text.
    pub fn paragraph(text: impl Into<String>) -> Self {
        Self::Paragraph(vec![Span::plain(text)])
    }

    /// A "- " item of plain text.
    pub fn dash(text: impl Into<String>) -> Self {
        Self::Item {
            marker: Marker::Dash,
            text: vec![Span::plain(text)],
        }
    }

    pub fn quote(text: impl Into<String>) -> Self {
        Self::Quote(text.into())
    }

    /// The standard "no data" note.
    pub fn no_data() -> Self {
        Self::NoData(NO_DATA.to_owned())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HeadingLevel {
    One,
    Two,
    Three,
}

/// What starts an item: "-", "+" (the level under "-") or "•".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Marker {
    Dash,
    Plus,
    Bullet,
}

impl Marker {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dash => "-",
            Self::Plus => "+",
            Self::Bullet => "•",
        }
    }
}

/// A run of text with one emphasis.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Span {
    pub text: String,
    pub bold: bool,
    pub italic: bool,
}

impl Span {
    pub fn plain(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }

    pub fn bold(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            bold: true,
            italic: false,
        }
    }

    pub fn italic(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            bold: false,
            italic: true,
        }
    }
}

/// A table with a header row that repeats on every page it spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub columns: Vec<Column>,
    /// Each row has one cell per column.
    pub rows: Vec<Vec<String>>,
    /// A last row in bold ("Tổng cộng"), when given.
    pub total: Option<Vec<String>>,
}

/// A table column: its title (bold, centred in the header row), its share of the width
/// (relative to the other columns) and how its cells are aligned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub title: String,
    pub width: u16,
    pub align: Align,
}

impl Column {
    pub fn new(title: impl Into<String>, width: u16, align: Align) -> Self {
        Self {
            title: title.into(),
            width,
            align,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Align {
    Left,
    Center,
    Right,
}

/// The bottom of the last page: recipients on the left, the signature on the right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closing {
    /// Under "Nơi nhận:", one "- " line each ("Như trên;", "Lưu: VT, VP.").
    pub recipients: Vec<String>,
    pub signature: Signature,
}

/// The signature block: authority and title lines, room to sign, and the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// Bold upper case, e.g. "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC".
    pub title_lines: Vec<String>,
    /// Bold, under the space for the signature; `None` leaves it for the signer.
    pub signer: Option<String>,
}

impl Document {
    /// The same document checked for what no renderer can write, with every text in
    /// NFC and the parts that Decree 30 sets in capitals upper-cased.
    pub(crate) fn prepared(&self) -> Result<Self, RenderError> {
        let mut out = self.clone();
        let header = &mut out.header;
        for (place, text, upper) in [
            ("header.parent_body", &mut header.parent_body, true),
            ("header.issuing_body", &mut header.issuing_body, true),
            ("header.number", &mut header.number, false),
            ("header.national_name", &mut header.national_name, true),
            ("header.motto", &mut header.motto, false),
            ("header.place_and_date", &mut header.place_and_date, false),
            ("title.kind", &mut out.title.kind, true),
        ] {
            prepare_text(place, text, upper)?;
        }
        for (i, line) in out.title.subject.iter_mut().enumerate() {
            prepare_text(&format!("title.subject[{i}]"), line, false)?;
        }
        for (i, block) in out.body.iter_mut().enumerate() {
            prepare_block(i, block)?;
        }
        let closing = &mut out.closing;
        for (i, line) in closing.recipients.iter_mut().enumerate() {
            prepare_text(&format!("closing.recipients[{i}]"), line, false)?;
        }
        for (i, line) in closing.signature.title_lines.iter_mut().enumerate() {
            prepare_text(&format!("closing.signature.title_lines[{i}]"), line, true)?;
        }
        if let Some(signer) = &mut closing.signature.signer {
            prepare_text("closing.signature.signer", signer, false)?;
        }
        Ok(out)
    }
}

fn prepare_block(index: usize, block: &mut Block) -> Result<(), RenderError> {
    let place = format!("body[{index}]");
    match block {
        Block::Heading { text, .. } | Block::Quote(text) | Block::NoData(text) => {
            prepare_text(&place, text, false)
        }
        Block::Paragraph(spans) | Block::Item { text: spans, .. } => spans
            .iter_mut()
            .try_for_each(|span| prepare_text(&place, &mut span.text, false)),
        Block::Table(table) => prepare_table(&place, table),
    }
}

fn prepare_table(place: &str, table: &mut Table) -> Result<(), RenderError> {
    if table.columns.is_empty() || table.columns.iter().any(|c| c.width == 0) {
        return Err(RenderError::TableColumns {
            place: place.to_owned(),
        });
    }
    let expected = table.columns.len();
    for column in &mut table.columns {
        prepare_text(place, &mut column.title, false)?;
    }
    let rows = table.rows.iter_mut().enumerate();
    let total = table.total.iter_mut().map(|row| (usize::MAX, row));
    for (i, row) in rows.chain(total) {
        let row_place = if i == usize::MAX {
            format!("{place}.total")
        } else {
            format!("{place}.rows[{i}]")
        };
        if row.len() != expected {
            return Err(RenderError::TableRow {
                place: row_place,
                found: row.len(),
                expected,
            });
        }
        for cell in row.iter_mut() {
            prepare_text(&row_place, cell, false)?;
        }
    }
    Ok(())
}

/// NFC, upper case when asked, and no character XML 1.0 or a page cannot carry.
fn prepare_text(place: &str, text: &mut String, upper: bool) -> Result<(), RenderError> {
    if let Some(ch) = text
        .chars()
        .find(|&c| (c.is_control() && c != '\n') || c == '\u{FFFE}' || c == '\u{FFFF}')
    {
        return Err(RenderError::Character {
            place: place.to_owned(),
            ch,
        });
    }
    let nfc: String = if upper {
        text.to_uppercase().nfc().collect()
    } else {
        text.nfc().collect()
    };
    *text = nfc;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> Document {
        Document {
            header: Header::new(
                "UBND tỉnh Đồng Tháp",
                "Sở Khoa học và Công nghệ",
                "Số:        /BC-SKHCN",
                "Đồng Tháp, ngày      tháng      năm 2025",
            ),
            title: Title::report("Kết quả thực hiện Kế hoạch số 136/KH-UBND năm 2024"),
            body: vec![Block::paragraph("Thu\u{0300} nghiệm")],
            closing: Closing {
                recipients: vec!["Như trên;".into()],
                signature: Signature {
                    title_lines: vec!["kt. giám đốc".into()],
                    signer: None,
                },
            },
        }
    }

    #[test]
    fn preparing_upper_cases_the_bodies_and_composes_to_nfc() {
        let doc = minimal().prepared().unwrap();
        assert_eq!(doc.header.parent_body, "UBND TỈNH ĐỒNG THÁP");
        assert_eq!(doc.header.issuing_body, "SỞ KHOA HỌC VÀ CÔNG NGHỆ");
        assert_eq!(doc.header.number, "Số:        /BC-SKHCN");
        assert_eq!(doc.closing.signature.title_lines, ["KT. GIÁM ĐỐC"]);
        assert_eq!(doc.body[0], Block::paragraph("Thù nghiệm"));
    }

    #[test]
    fn a_control_character_is_refused_with_its_place() {
        let mut doc = minimal();
        doc.body.push(Block::quote("a\tb"));
        let error = doc.prepared().unwrap_err();
        assert!(error.to_string().contains("body[1]"), "{error}");
        assert!(error.to_string().contains("U+0009"), "{error}");
    }

    #[test]
    fn a_row_of_the_wrong_length_is_refused() {
        let mut doc = minimal();
        doc.body.push(Block::Table(Table {
            columns: vec![
                Column::new("A", 1, Align::Left),
                Column::new("B", 1, Align::Left),
            ],
            rows: vec![vec!["1".into(), "2".into()]],
            total: Some(vec!["Tổng".into()]),
        }));
        let error = doc.prepared().unwrap_err();
        assert!(
            matches!(&error, RenderError::TableRow { place, found: 1, expected: 2 } if place == "body[1].total"),
            "{error}"
        );
    }

    #[test]
    fn a_table_without_columns_or_with_a_zero_width_is_refused() {
        let mut doc = minimal();
        doc.body.push(Block::Table(Table {
            columns: vec![Column::new("A", 0, Align::Left)],
            rows: vec![],
            total: None,
        }));
        assert!(matches!(
            doc.prepared(),
            Err(RenderError::TableColumns { .. })
        ));
    }

    #[test]
    fn the_one_line_title_joins_kind_and_subject() {
        let doc = minimal();
        assert_eq!(
            doc.title.one_line(),
            "BÁO CÁO Kết quả thực hiện Kế hoạch số 136/KH-UBND năm 2024"
        );
    }
}
