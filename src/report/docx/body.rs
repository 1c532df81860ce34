//! `word/document.xml`: the header table, title, body blocks and closing table.

use super::parts::{self, BLOCK_LINE_STYLE, HEADER_DEFAULT_ID, HEADER_FIRST_ID};
use super::units::{half_points, twips};
use super::xml::Xml;
use crate::report::document::{Align, Block, Closing, Document, Header, Span, Table};
use crate::report::style::{self, Kind, Line, Rule, TextAlign};

const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
const R: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

pub(super) fn document(document: &Document) -> String {
    let mut xml = Xml::new();
    xml.open("w:document", &[("xmlns:w", W), ("xmlns:r", R)])
        .open("w:body", &[]);
    header(&mut xml, &document.header);
    let title = style::title(&document.title.kind, &document.title.subject);
    let width = style::text_width_mm();
    for (i, line) in title.iter().enumerate() {
        let before = if i == 0 { style::TITLE_BEFORE_PT } else { 0.0 };
        block_line(&mut xml, line, TextAlign::Center, before, width);
    }
    spacer(&mut xml, style::TITLE_AFTER_PT);
    for block in &document.body {
        body_block(&mut xml, block);
    }
    closing(&mut xml, &document.closing);
    section(&mut xml);
    xml.close("w:body").close("w:document");
    xml.finish()
}

fn header(xml: &mut Xml, header: &Header) {
    let [(outdent, left), (_, right)] = style::header_columns_mm();
    borderless_table(xml, &[left, right], outdent);
    for (left_lines, right_lines) in style::header_rows(header) {
        xml.open("w:tr", &[]);
        for (lines, width) in [(left_lines, left), (right_lines, right)] {
            cell_start(xml, width, None);
            for line in &lines {
                block_line(xml, line, TextAlign::Center, line.before_pt, width);
            }
            xml.close("w:tc");
        }
        xml.close("w:tr");
    }
    xml.close("w:tbl");
}

/// A line of the header, title or closing, and its rule. A full rule is an underline
/// (exactly as long as the text); a short one is the top border of a thin paragraph
/// indented to a third of the text's estimated width.
fn block_line(xml: &mut Xml, line: &Line<'_>, align: TextAlign, before_pt: f32, width_mm: f32) {
    xml.open("w:p", &[])
        .open("w:pPr", &[])
        .val("w:pStyle", BLOCK_LINE_STYLE);
    if before_pt > 0.0 {
        xml.empty("w:spacing", &[("w:before", &points_to_twips(before_pt))]);
    }
    xml.val("w:jc", parts::jc(align)).close("w:pPr");
    let props = RunProps {
        bold: line.bold,
        italic: line.italic,
        size: Some(line.size),
        underline: line.rule == Rule::Full,
    };
    runs(xml, line.text, props);
    xml.close("w:p");
    if line.rule == Rule::Short {
        let text_mm = estimated_width_pt(line.text, line.size, line.bold) / style::PT_PER_MM;
        let rule_mm = text_mm.min(width_mm) * style::SHORT_RULE_SHARE;
        short_rule(xml, (width_mm - rule_mm) / 2.0);
    }
}

fn short_rule(xml: &mut Xml, indent_mm: f32) {
    let indent = twips(indent_mm.max(0.0));
    xml.open("w:p", &[])
        .open("w:pPr", &[])
        .val("w:pStyle", BLOCK_LINE_STYLE)
        .open("w:pBdr", &[])
        .empty(
            "w:top",
            &[
                ("w:val", "single"),
                ("w:sz", &eighths(style::RULE_WIDTH_PT)),
                ("w:space", "1"),
                ("w:color", "000000"),
            ],
        )
        .close("w:pBdr")
        .empty("w:spacing", &[("w:line", "60"), ("w:lineRule", "exact")])
        .empty("w:ind", &[("w:left", &indent), ("w:right", &indent)])
        .open("w:rPr", &[])
        .val("w:sz", "2")
        .close("w:rPr")
        .close("w:pPr")
        .close("w:p");
}

/// An empty paragraph `pt` high: room after the title and after each table (two tables
/// in a row would otherwise merge into one).
fn spacer(xml: &mut Xml, pt: f32) {
    xml.open("w:p", &[])
        .open("w:pPr", &[])
        .val("w:pStyle", BLOCK_LINE_STYLE)
        .empty(
            "w:spacing",
            &[
                ("w:line", &points_to_twips(pt.max(1.0))),
                ("w:lineRule", "exact"),
            ],
        )
        .open("w:rPr", &[])
        .val("w:sz", "2")
        .close("w:rPr")
        .close("w:pPr")
        .close("w:p");
}

fn body_block(xml: &mut Xml, block: &Block) {
    let kind = style::kind_of(block);
    match block {
        Block::Heading { text, .. } | Block::Quote(text) | Block::NoData(text) => {
            paragraph(xml, kind, &[Span::plain(text.as_str())], None);
        }
        Block::Paragraph(spans) => paragraph(xml, kind, spans, None),
        Block::Item { marker, text } => paragraph(xml, kind, text, Some(marker.as_str())),
        Block::Table(table) => {
            data_table(xml, table);
            spacer(xml, style::para(Kind::Body).after_pt);
        }
    }
}

fn paragraph(xml: &mut Xml, kind: Kind, spans: &[Span], marker: Option<&str>) {
    xml.open("w:p", &[]);
    if kind != Kind::Body {
        xml.open("w:pPr", &[])
            .val("w:pStyle", parts::style_id(kind))
            .close("w:pPr");
    }
    if let Some(marker) = marker {
        runs(xml, &format!("{marker} "), RunProps::default());
    }
    for span in spans {
        let props = RunProps {
            bold: span.bold,
            italic: span.italic,
            ..RunProps::default()
        };
        runs(xml, &span.text, props);
    }
    xml.close("w:p");
}

fn data_table(xml: &mut Xml, table: &Table) {
    let total_width: u32 = table.columns.iter().map(|c| u32::from(c.width)).sum();
    let text = style::text_width_mm();
    let widths: Vec<f32> = table
        .columns
        .iter()
        .map(|c| text * f32::from(c.width) / total_width as f32)
        .collect();
    let border = [
        ("w:val", "single"),
        ("w:sz", &eighths(style::BORDER_WIDTH_PT)),
        ("w:space", "0"),
        ("w:color", "000000"),
    ];
    xml.open("w:tbl", &[]).open("w:tblPr", &[]);
    table_width(xml, text);
    xml.open("w:tblBorders", &[]);
    for side in [
        "w:top",
        "w:left",
        "w:bottom",
        "w:right",
        "w:insideH",
        "w:insideV",
    ] {
        xml.empty(side, &border);
    }
    xml.close("w:tblBorders")
        .empty("w:tblLayout", &[("w:type", "fixed")]);
    cell_margins(xml, style::CELL_PAD_X_MM, style::CELL_PAD_Y_PT);
    xml.close("w:tblPr");
    grid(xml, &widths);

    let titles: Vec<&str> = table.columns.iter().map(|c| c.title.as_str()).collect();
    let centred = vec![Align::Center; titles.len()];
    table_row(xml, &titles, &widths, &centred, RowKind::Head);
    let aligns: Vec<Align> = table.columns.iter().map(|c| c.align).collect();
    for row in &table.rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        table_row(xml, &cells, &widths, &aligns, RowKind::Data);
    }
    if let Some(total) = &table.total {
        let cells: Vec<&str> = total.iter().map(String::as_str).collect();
        table_row(xml, &cells, &widths, &aligns, RowKind::Total);
    }
    xml.close("w:tbl");
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum RowKind {
    /// Bold, centred, repeated at the top of every page the table spans.
    Head,
    Data,
    Total,
}

fn table_row(xml: &mut Xml, cells: &[&str], widths: &[f32], aligns: &[Align], kind: RowKind) {
    xml.open("w:tr", &[]);
    if kind == RowKind::Head {
        xml.open("w:trPr", &[])
            .empty("w:tblHeader", &[])
            .close("w:trPr");
    }
    for ((text, width), align) in cells.iter().zip(widths).zip(aligns) {
        cell_start(xml, *width, Some("center"));
        let align = match align {
            Align::Left => TextAlign::Left,
            Align::Center => TextAlign::Center,
            Align::Right => TextAlign::Right,
        };
        xml.open("w:p", &[])
            .open("w:pPr", &[])
            .val("w:pStyle", parts::style_id(Kind::Cell))
            .val("w:jc", parts::jc(align))
            .close("w:pPr");
        let props = RunProps {
            bold: kind != RowKind::Data,
            ..RunProps::default()
        };
        runs(xml, text, props);
        xml.close("w:p").close("w:tc");
    }
    xml.close("w:tr");
}

fn closing(xml: &mut Xml, closing: &Closing) {
    let text = style::text_width_mm();
    let left = text * style::CLOSING_LEFT_SHARE;
    borderless_table(xml, &[left, text - left], 0.0);
    // One row that Word keeps on one page, so the signature never leaves its recipients.
    xml.open("w:tr", &[])
        .open("w:trPr", &[])
        .empty("w:cantSplit", &[])
        .close("w:trPr");
    cell_start(xml, left, None);
    let before = style::CLOSING_BEFORE_PT;
    block_line(
        xml,
        &style::recipients_label(),
        TextAlign::Left,
        before,
        left,
    );
    for recipient in &closing.recipients {
        let text = format!("- {recipient}");
        block_line(xml, &style::recipient(&text), TextAlign::Left, 0.0, left);
    }
    xml.close("w:tc");

    let right = text - left;
    cell_start(xml, right, None);
    for (i, line) in style::signature_titles(&closing.signature)
        .iter()
        .enumerate()
    {
        let before = if i == 0 { before } else { 0.0 };
        block_line(xml, line, TextAlign::Center, before, right);
    }
    match style::signer(&closing.signature) {
        Some(signer) => block_line(
            xml,
            &signer,
            TextAlign::Center,
            style::SIGNATURE_SPACE_PT,
            right,
        ),
        // Left for the signer: the room to sign, and a line for the name.
        None => spacer(xml, style::SIGNATURE_SPACE_PT + 16.0),
    }
    xml.close("w:tc").close("w:tr").close("w:tbl");
    // A document ends with a paragraph; keep it one point high.
    spacer(xml, 1.0);
}

fn section(xml: &mut Xml) {
    xml.open("w:sectPr", &[])
        .empty(
            "w:headerReference",
            &[("w:type", "default"), ("r:id", HEADER_DEFAULT_ID)],
        )
        .empty(
            "w:headerReference",
            &[("w:type", "first"), ("r:id", HEADER_FIRST_ID)],
        )
        .empty(
            "w:pgSz",
            &[
                ("w:w", &twips(style::PAGE_WIDTH_MM)),
                ("w:h", &twips(style::PAGE_HEIGHT_MM)),
            ],
        )
        .empty(
            "w:pgMar",
            &[
                ("w:top", &twips(style::MARGIN_TOP_MM)),
                ("w:right", &twips(style::MARGIN_RIGHT_MM)),
                ("w:bottom", &twips(style::MARGIN_BOTTOM_MM)),
                ("w:left", &twips(style::MARGIN_LEFT_MM)),
                ("w:header", &twips(style::PAGE_NUMBER_TOP_MM)),
                ("w:footer", &twips(style::PAGE_NUMBER_TOP_MM)),
                ("w:gutter", "0"),
            ],
        )
        .empty("w:titlePg", &[])
        .close("w:sectPr");
}

/// A table without borders, starting `indent_mm` from the text's left edge.
fn borderless_table(xml: &mut Xml, widths: &[f32], indent_mm: f32) {
    xml.open("w:tbl", &[]).open("w:tblPr", &[]);
    table_width(xml, widths.iter().sum());
    xml.empty("w:tblInd", &[("w:w", &twips(indent_mm)), ("w:type", "dxa")]);
    xml.open("w:tblBorders", &[]);
    for side in [
        "w:top",
        "w:left",
        "w:bottom",
        "w:right",
        "w:insideH",
        "w:insideV",
    ] {
        xml.val(side, "nil");
    }
    xml.close("w:tblBorders")
        .empty("w:tblLayout", &[("w:type", "fixed")]);
    // The lines are centred in the whole column, as in the PDF.
    cell_margins(xml, 0.0, 0.0);
    xml.close("w:tblPr");
    grid(xml, widths);
}

fn table_width(xml: &mut Xml, mm: f32) {
    xml.empty("w:tblW", &[("w:w", &twips(mm)), ("w:type", "dxa")]);
}

fn cell_margins(xml: &mut Xml, x_mm: f32, y_pt: f32) {
    let x = twips(x_mm);
    let y = points_to_twips(y_pt);
    xml.open("w:tblCellMar", &[]);
    for (side, value) in [
        ("w:top", &y),
        ("w:left", &x),
        ("w:bottom", &y),
        ("w:right", &x),
    ] {
        xml.empty(side, &[("w:w", value), ("w:type", "dxa")]);
    }
    xml.close("w:tblCellMar");
}

fn grid(xml: &mut Xml, widths: &[f32]) {
    xml.open("w:tblGrid", &[]);
    for width in widths {
        xml.empty("w:gridCol", &[("w:w", &twips(*width))]);
    }
    xml.close("w:tblGrid");
}

fn cell_start(xml: &mut Xml, width_mm: f32, valign: Option<&str>) {
    xml.open("w:tc", &[])
        .open("w:tcPr", &[])
        .empty("w:tcW", &[("w:w", &twips(width_mm)), ("w:type", "dxa")]);
    if let Some(valign) = valign {
        xml.val("w:vAlign", valign);
    }
    xml.close("w:tcPr");
}

#[derive(Debug, Clone, Copy, Default)]
struct RunProps {
    bold: bool,
    italic: bool,
    size: Option<f32>,
    underline: bool,
}

/// The text as runs with `props`, a `'\n'` becoming a line break; spaces are kept as
/// written (`xml:space="preserve"`).
fn runs(xml: &mut Xml, text: &str, props: RunProps) {
    xml.open("w:r", &[]);
    if props.bold || props.italic || props.size.is_some() || props.underline {
        xml.open("w:rPr", &[]);
        if props.bold {
            xml.empty("w:b", &[]).empty("w:bCs", &[]);
        }
        if props.italic {
            xml.empty("w:i", &[]).empty("w:iCs", &[]);
        }
        if let Some(size) = props.size {
            let size = half_points(size);
            xml.val("w:sz", &size).val("w:szCs", &size);
        }
        if props.underline {
            xml.val("w:u", "single");
        }
        xml.close("w:rPr");
    }
    for (i, piece) in text.split('\n').enumerate() {
        if i > 0 {
            xml.empty("w:br", &[]);
        }
        if !piece.is_empty() {
            xml.element("w:t", &[("xml:space", "preserve")], piece);
        }
    }
    xml.close("w:r");
}

fn points_to_twips(pt: f32) -> String {
    ((pt * 20.0).round() as i64).to_string()
}

/// Border widths are in eighths of a point.
fn eighths(pt: f32) -> String {
    ((pt * 8.0).round() as i64).to_string()
}

/// Roughly how wide Times New Roman sets `text`, in points (its widest line). Word
/// measures the real text, this file cannot; a rule of a third of the text only needs
/// the estimate within a few per cent, which average widths per kind of letter give.
pub(super) fn estimated_width_pt(text: &str, size: f32, bold: bool) -> f32 {
    let em = |ch: char| -> f32 {
        match ch {
            ' ' => 0.25,
            c if c.is_uppercase() => {
                if bold {
                    0.73
                } else {
                    0.70
                }
            }
            c if c.is_alphabetic() => {
                if bold {
                    0.50
                } else {
                    0.47
                }
            }
            c if c.is_ascii_digit() => 0.5,
            _ => 0.33,
        }
    };
    text.split('\n')
        .map(|line| line.chars().map(em).sum::<f32>() * size)
        .fold(0.0, f32::max)
}
