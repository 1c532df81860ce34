//! The layout both renderers follow, from Decree 30/2020/NĐ-CP (Appendix I): A4,
//! margins, sizes and emphasis of every part. Keeping it in one place keeps the DOCX and
//! the PDF of one document alike.

use super::document::{Block, Header, HeadingLevel, Signature};

pub(crate) const PAGE_WIDTH_MM: f32 = 210.0;
pub(crate) const PAGE_HEIGHT_MM: f32 = 297.0;
pub(crate) const MARGIN_TOP_MM: f32 = 20.0;
pub(crate) const MARGIN_BOTTOM_MM: f32 = 20.0;
pub(crate) const MARGIN_LEFT_MM: f32 = 30.0;
pub(crate) const MARGIN_RIGHT_MM: f32 = 15.0;
/// From the top edge to the page number, which sits centred in the top margin.
pub(crate) const PAGE_NUMBER_TOP_MM: f32 = 10.0;
pub(crate) const PAGE_NUMBER_PT: f32 = 13.0;

/// The header block reaches this far into the left margin: at 13 pt, the name of a
/// department ("SỞ KHOA HỌC VÀ CÔNG NGHỆ", 70 mm) and the national name (96 mm) are
/// together wider than the text.
pub(crate) const HEADER_OUTDENT_MM: f32 = 10.0;
/// The header's left column; the national name has the rest.
pub(crate) const HEADER_LEFT_MM: f32 = 72.0;
/// The closing's left column (recipients), as a share of the text width.
pub(crate) const CLOSING_LEFT_SHARE: f32 = 0.45;
/// The rule under the issuing body and under the subject: a third of the text.
pub(crate) const SHORT_RULE_SHARE: f32 = 1.0 / 3.0;
/// Room left for the signature and seal, above the signer's name.
pub(crate) const SIGNATURE_SPACE_PT: f32 = 72.0;

pub(crate) const TABLE_PT: f32 = 13.0;
/// Space between a cell's text and its borders.
pub(crate) const CELL_PAD_X_MM: f32 = 1.5;
pub(crate) const CELL_PAD_Y_PT: f32 = 2.0;
pub(crate) const RULE_WIDTH_PT: f32 = 0.75;
/// Space between a line and the rule under it, and under the rule.
pub(crate) const RULE_GAP_PT: f32 = 2.5;
pub(crate) const BORDER_WIDTH_PT: f32 = 0.5;

/// Points per millimetre.
pub(crate) const PT_PER_MM: f32 = 72.0 / 25.4;

pub(crate) fn text_width_mm() -> f32 {
    PAGE_WIDTH_MM - MARGIN_LEFT_MM - MARGIN_RIGHT_MM
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextAlign {
    Left,
    Center,
    Right,
    Justify,
}

/// How a paragraph of the body is set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Para {
    pub size: f32,
    pub bold: bool,
    pub italic: bool,
    pub align: TextAlign,
    pub first_line_mm: f32,
    pub left_mm: f32,
    pub right_mm: f32,
    pub before_pt: f32,
    pub after_pt: f32,
    /// Line height as a multiple of the font's single line.
    pub line: f32,
    /// Never the last thing on a page.
    pub keep_next: bool,
}

const BODY: Para = Para {
    size: 14.0,
    bold: false,
    italic: false,
    align: TextAlign::Justify,
    first_line_mm: 10.0,
    left_mm: 0.0,
    right_mm: 0.0,
    before_pt: 0.0,
    after_pt: 6.0,
    line: 1.15,
    keep_next: false,
};

/// The kinds of paragraph the body has; the DOCX names a style after each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Body,
    Heading(HeadingLevel),
    Quote,
    NoData,
    Cell,
}

pub(crate) fn para(kind: Kind) -> Para {
    match kind {
        Kind::Body => BODY,
        Kind::Heading(level) => Para {
            bold: true,
            italic: level == HeadingLevel::Three,
            before_pt: 6.0,
            keep_next: true,
            ..BODY
        },
        Kind::Quote => Para {
            italic: true,
            first_line_mm: 0.0,
            left_mm: 10.0,
            right_mm: 10.0,
            ..BODY
        },
        Kind::NoData => Para {
            italic: true,
            align: TextAlign::Left,
            ..BODY
        },
        Kind::Cell => Para {
            size: TABLE_PT,
            align: TextAlign::Left,
            first_line_mm: 0.0,
            after_pt: 0.0,
            line: 1.0,
            ..BODY
        },
    }
}

pub(crate) fn kind_of(block: &Block) -> Kind {
    match block {
        Block::Heading { level, .. } => Kind::Heading(*level),
        Block::Paragraph(_) | Block::Item { .. } => Kind::Body,
        Block::Quote(_) => Kind::Quote,
        Block::NoData(_) => Kind::NoData,
        Block::Table(_) => Kind::Cell,
    }
}

/// What is drawn under a line of the header, title or closing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    None,
    /// [`SHORT_RULE_SHARE`] of the text above, centred.
    Short,
    /// As long as the text above.
    Full,
}

/// One centred or left-aligned line of the header, title or closing; its text may
/// still wrap, and may hold `'\n'`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Line<'a> {
    pub text: &'a str,
    pub size: f32,
    pub bold: bool,
    pub italic: bool,
    pub rule: Rule,
    /// Space above, in points.
    pub before_pt: f32,
}

impl<'a> Line<'a> {
    const fn new(text: &'a str, size: f32, bold: bool, italic: bool) -> Self {
        Self {
            text,
            size,
            bold,
            italic,
            rule: Rule::None,
            before_pt: 0.0,
        }
    }

    const fn rule(self, rule: Rule) -> Self {
        Self { rule, ..self }
    }

    const fn before(self, before_pt: f32) -> Self {
        Self { before_pt, ..self }
    }
}

/// The header in two rows of (left, right) lines: the names, then the number and the
/// place and date, which share a line.
pub(crate) fn header_rows(header: &Header) -> [(Vec<Line<'_>>, Vec<Line<'_>>); 2] {
    [
        (
            vec![
                Line::new(&header.parent_body, 13.0, false, false),
                Line::new(&header.issuing_body, 13.0, true, false).rule(Rule::Short),
            ],
            vec![
                Line::new(&header.national_name, 13.0, true, false),
                Line::new(&header.motto, 14.0, true, false).rule(Rule::Full),
            ],
        ),
        (
            vec![Line::new(&header.number, 13.0, false, false).before(6.0)],
            vec![Line::new(&header.place_and_date, 14.0, false, true).before(6.0)],
        ),
    ]
}

/// The header's columns: where each starts, from the text's left edge, and its width.
pub(crate) fn header_columns_mm() -> [(f32, f32); 2] {
    let right = text_width_mm() + HEADER_OUTDENT_MM - HEADER_LEFT_MM;
    [
        (-HEADER_OUTDENT_MM, HEADER_LEFT_MM),
        (HEADER_LEFT_MM - HEADER_OUTDENT_MM, right),
    ]
}

/// "BÁO CÁO", then the subject lines with a short rule under the last.
pub(crate) fn title<'a>(kind: &'a str, subject: &'a [String]) -> Vec<Line<'a>> {
    let mut lines = vec![Line::new(kind, 14.0, true, false)];
    let last = subject.len().saturating_sub(1);
    lines.extend(subject.iter().enumerate().map(|(i, s)| {
        let line = Line::new(s, 14.0, true, false);
        if i == last {
            line.rule(Rule::Short)
        } else {
            line
        }
    }));
    lines
}

/// Space above the title and below its rule, in points.
pub(crate) const TITLE_BEFORE_PT: f32 = 24.0;
pub(crate) const TITLE_AFTER_PT: f32 = 18.0;
/// Space between the body and the closing.
pub(crate) const CLOSING_BEFORE_PT: f32 = 12.0;

pub(crate) fn recipients_label() -> Line<'static> {
    Line::new(super::document::RECIPIENTS_LABEL, 12.0, true, true)
}

pub(crate) fn recipient(text: &str) -> Line<'_> {
    Line::new(text, 11.0, false, false)
}

pub(crate) fn signature_titles(signature: &Signature) -> Vec<Line<'_>> {
    signature
        .title_lines
        .iter()
        .map(|t| Line::new(t, 14.0, true, false))
        .collect()
}

pub(crate) fn signer(signature: &Signature) -> Option<Line<'_>> {
    signature
        .signer
        .as_deref()
        .map(|s| Line::new(s, 14.0, true, false))
}
