//! The package parts around the body: content types, relationships, styles, settings,
//! page headers and document properties.

use super::units::{half_points, twips};
use super::xml::Xml;
use crate::report::document::HeadingLevel;
use crate::report::style::{self, Kind, Para, TextAlign};

const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
const R: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const FONT: &str = "Times New Roman";
pub(super) const LANGUAGE: &str = "vi-VN";

/// Relationship ids of the body part.
pub(super) const HEADER_DEFAULT_ID: &str = "rIdHeaderDefault";
pub(super) const HEADER_FIRST_ID: &str = "rIdHeaderFirst";

/// Paragraph styles of the body, by id; names of Word's built-in styles where one fits,
/// so the navigation pane and the style gallery know them.
pub(super) fn style_id(kind: Kind) -> &'static str {
    match kind {
        Kind::Body => "Normal",
        Kind::Heading(HeadingLevel::One) => "Heading1",
        Kind::Heading(HeadingLevel::Two) => "Heading2",
        Kind::Heading(HeadingLevel::Three) => "Heading3",
        Kind::Quote => "Quote",
        Kind::NoData => "NoData",
        Kind::Cell => "TableText",
    }
}

fn style_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Body => "Normal",
        Kind::Heading(HeadingLevel::One) => "heading 1",
        Kind::Heading(HeadingLevel::Two) => "heading 2",
        Kind::Heading(HeadingLevel::Three) => "heading 3",
        Kind::Quote => "Quote",
        Kind::NoData => "No Data",
        Kind::Cell => "Table Text",
    }
}

/// The style of the header, title and closing lines: centred, single spacing, no indent.
pub(super) const BLOCK_LINE_STYLE: &str = "BlockLine";

pub(super) fn content_types() -> String {
    let main = "application/vnd.openxmlformats-officedocument.wordprocessingml";
    let mut xml = Xml::new();
    xml.open(
        "Types",
        &[(
            "xmlns",
            "http://schemas.openxmlformats.org/package/2006/content-types",
        )],
    )
    .empty(
        "Default",
        &[
            ("Extension", "rels"),
            (
                "ContentType",
                "application/vnd.openxmlformats-package.relationships+xml",
            ),
        ],
    )
    .empty(
        "Default",
        &[("Extension", "xml"), ("ContentType", "application/xml")],
    );
    for (part, kind) in [
        ("/word/document.xml", format!("{main}.document.main+xml")),
        ("/word/styles.xml", format!("{main}.styles+xml")),
        ("/word/settings.xml", format!("{main}.settings+xml")),
        ("/word/header1.xml", format!("{main}.header+xml")),
        ("/word/header2.xml", format!("{main}.header+xml")),
        (
            "/docProps/core.xml",
            "application/vnd.openxmlformats-package.core-properties+xml".to_owned(),
        ),
        (
            "/docProps/app.xml",
            "application/vnd.openxmlformats-officedocument.extended-properties+xml".to_owned(),
        ),
    ] {
        xml.empty("Override", &[("PartName", part), ("ContentType", &kind)]);
    }
    xml.close("Types");
    xml.finish()
}

fn relationships(entries: &[(&str, &str, &str)]) -> String {
    let mut xml = Xml::new();
    xml.open(
        "Relationships",
        &[(
            "xmlns",
            "http://schemas.openxmlformats.org/package/2006/relationships",
        )],
    );
    for (id, kind, target) in entries {
        xml.empty(
            "Relationship",
            &[("Id", id), ("Type", kind), ("Target", target)],
        );
    }
    xml.close("Relationships");
    xml.finish()
}

pub(super) fn package_relationships() -> String {
    relationships(&[
        (
            "rId1",
            "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument",
            "word/document.xml",
        ),
        (
            "rId2",
            "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties",
            "docProps/core.xml",
        ),
        (
            "rId3",
            "http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties",
            "docProps/app.xml",
        ),
    ])
}

pub(super) fn document_relationships() -> String {
    let base = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    relationships(&[
        ("rIdStyles", &format!("{base}/styles"), "styles.xml"),
        ("rIdSettings", &format!("{base}/settings"), "settings.xml"),
        (HEADER_DEFAULT_ID, &format!("{base}/header"), "header1.xml"),
        (HEADER_FIRST_ID, &format!("{base}/header"), "header2.xml"),
    ])
}

/// Only what the caller gave: no author, dates or revision, so the bytes never change.
pub(super) fn core_properties(title: &str) -> String {
    let mut xml = Xml::new();
    xml.open(
        "cp:coreProperties",
        &[
            (
                "xmlns:cp",
                "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
            ),
            ("xmlns:dc", "http://purl.org/dc/elements/1.1/"),
        ],
    )
    .element("dc:title", &[], title)
    .element("dc:language", &[], LANGUAGE)
    .close("cp:coreProperties");
    xml.finish()
}

pub(super) fn app_properties() -> String {
    let mut xml = Xml::new();
    xml.open(
        "Properties",
        &[(
            "xmlns",
            "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties",
        )],
    )
    .element("Application", &[], "khcn-hub")
    .close("Properties");
    xml.finish()
}

pub(super) fn settings() -> String {
    let mut xml = Xml::new();
    xml.open("w:settings", &[("xmlns:w", W)])
        .empty("w:zoom", &[("w:percent", "100")])
        .val("w:defaultTabStop", "720")
        .val("w:characterSpacingControl", "doNotCompress")
        .open("w:compat", &[])
        .empty(
            "w:compatSetting",
            &[
                ("w:name", "compatibilityMode"),
                ("w:uri", "http://schemas.microsoft.com/office/word"),
                ("w:val", "15"),
            ],
        )
        .close("w:compat")
        .val("w:themeFontLang", LANGUAGE)
        .close("w:settings");
    xml.finish()
}

/// The page header from page 2 on: the page number, centred.
pub(super) fn header_with_page_number() -> String {
    let mut xml = Xml::new();
    xml.open("w:hdr", &[("xmlns:w", W), ("xmlns:r", R)])
        .open("w:p", &[])
        .open("w:pPr", &[])
        .val("w:pStyle", "Header")
        .close("w:pPr");
    let field = [
        ("w:fldChar", "begin"),
        ("w:instrText", " PAGE "),
        ("w:fldChar", "separate"),
        ("w:t", "2"),
        ("w:fldChar", "end"),
    ];
    for (element, value) in field {
        xml.open("w:r", &[]);
        if element == "w:fldChar" {
            xml.empty(element, &[("w:fldCharType", value)]);
        } else {
            xml.element(element, &[("xml:space", "preserve")], value);
        }
        xml.close("w:r");
    }
    xml.close("w:p").close("w:hdr");
    xml.finish()
}

/// The first page's header: empty, as Decree 30 numbers pages from the second.
pub(super) fn header_empty() -> String {
    let mut xml = Xml::new();
    xml.open("w:hdr", &[("xmlns:w", W), ("xmlns:r", R)])
        .open("w:p", &[])
        .open("w:pPr", &[])
        .val("w:pStyle", "Header")
        .close("w:pPr")
        .close("w:p")
        .close("w:hdr");
    xml.finish()
}

pub(super) fn styles() -> String {
    let mut xml = Xml::new();
    xml.open("w:styles", &[("xmlns:w", W)]);
    defaults(&mut xml);
    for kind in [
        Kind::Body,
        Kind::Heading(HeadingLevel::One),
        Kind::Heading(HeadingLevel::Two),
        Kind::Heading(HeadingLevel::Three),
        Kind::Quote,
        Kind::NoData,
        Kind::Cell,
    ] {
        paragraph_style(&mut xml, kind);
    }
    simple_style(&mut xml, BLOCK_LINE_STYLE, "Block Line", 14.0);
    simple_style(&mut xml, "Header", "header", style::PAGE_NUMBER_PT);
    xml.close("w:styles");
    xml.finish()
}

fn defaults(xml: &mut Xml) {
    let size = half_points(style::para(Kind::Body).size);
    xml.open("w:docDefaults", &[])
        .open("w:rPrDefault", &[])
        .open("w:rPr", &[])
        .empty(
            "w:rFonts",
            &[
                ("w:ascii", FONT),
                ("w:hAnsi", FONT),
                ("w:eastAsia", FONT),
                ("w:cs", FONT),
            ],
        )
        .val("w:sz", &size)
        .val("w:szCs", &size)
        .empty("w:lang", &[("w:val", LANGUAGE), ("w:eastAsia", LANGUAGE)])
        .close("w:rPr")
        .close("w:rPrDefault")
        .open("w:pPrDefault", &[])
        .open("w:pPr", &[])
        .empty(
            "w:spacing",
            &[("w:after", "0"), ("w:line", "240"), ("w:lineRule", "auto")],
        )
        .close("w:pPr")
        .close("w:pPrDefault")
        .close("w:docDefaults");
}

fn paragraph_style(xml: &mut Xml, kind: Kind) {
    let id = style_id(kind);
    let mut attrs = vec![("w:type", "paragraph"), ("w:styleId", id)];
    if kind == Kind::Body {
        attrs.push(("w:default", "1"));
    }
    xml.open("w:style", &attrs).val("w:name", style_name(kind));
    if kind != Kind::Body {
        xml.val("w:basedOn", "Normal").val("w:next", "Normal");
    }
    xml.empty("w:qFormat", &[]);
    paragraph_properties(xml, &style::para(kind), kind);
    xml.open("w:rPr", &[]);
    let para = style::para(kind);
    if para.bold {
        xml.empty("w:b", &[]).empty("w:bCs", &[]);
    }
    if para.italic {
        xml.empty("w:i", &[]).empty("w:iCs", &[]);
    }
    let size = half_points(para.size);
    xml.val("w:sz", &size).val("w:szCs", &size);
    xml.close("w:rPr").close("w:style");
}

fn paragraph_properties(xml: &mut Xml, para: &Para, kind: Kind) {
    xml.open("w:pPr", &[]);
    if para.keep_next {
        xml.empty("w:keepNext", &[]);
    }
    let line = ((240.0 * para.line).round() as i64).to_string();
    xml.empty(
        "w:spacing",
        &[
            ("w:before", &twips_pt(para.before_pt)),
            ("w:after", &twips_pt(para.after_pt)),
            ("w:line", &line),
            ("w:lineRule", "auto"),
        ],
    )
    .empty(
        "w:ind",
        &[
            ("w:left", &twips(para.left_mm)),
            ("w:right", &twips(para.right_mm)),
            ("w:firstLine", &twips(para.first_line_mm)),
        ],
    )
    .val("w:jc", jc(para.align));
    if let Kind::Heading(level) = kind {
        let outline = match level {
            HeadingLevel::One => "0",
            HeadingLevel::Two => "1",
            HeadingLevel::Three => "2",
        };
        xml.val("w:outlineLvl", outline);
    }
    xml.close("w:pPr");
}

fn simple_style(xml: &mut Xml, id: &str, name: &str, size: f32) {
    let size = half_points(size);
    xml.open("w:style", &[("w:type", "paragraph"), ("w:styleId", id)])
        .val("w:name", name)
        .open("w:pPr", &[])
        .empty(
            "w:spacing",
            &[
                ("w:before", "0"),
                ("w:after", "0"),
                ("w:line", "240"),
                ("w:lineRule", "auto"),
            ],
        )
        .empty(
            "w:ind",
            &[("w:left", "0"), ("w:right", "0"), ("w:firstLine", "0")],
        )
        .val("w:jc", "center")
        .close("w:pPr")
        .open("w:rPr", &[])
        .val("w:sz", &size)
        .val("w:szCs", &size)
        .close("w:rPr")
        .close("w:style");
}

pub(super) fn jc(align: TextAlign) -> &'static str {
    match align {
        TextAlign::Left => "left",
        TextAlign::Center => "center",
        TextAlign::Right => "right",
        TextAlign::Justify => "both",
    }
}

fn twips_pt(pt: f32) -> String {
    ((pt * 20.0).round() as i64).to_string()
}
