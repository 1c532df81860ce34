use std::io::{Cursor, Read};

use super::*;
use crate::report::document::{Block, Span};
use crate::report::sample;

fn parts(docx: &[u8]) -> Vec<(String, String)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(docx)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            assert_eq!(
                file.last_modified(),
                Some(DateTime::default()),
                "{}",
                file.name()
            );
            let mut text = String::new();
            file.read_to_string(&mut text).unwrap();
            (file.name().to_owned(), text)
        })
        .collect()
}

fn part(docx: &[u8], name: &str) -> String {
    parts(docx)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, text)| text)
        .unwrap()
}

#[test]
fn the_same_document_gives_the_same_bytes() {
    let document = sample::document(2024);
    let first = render(&document).unwrap();
    let second = render(&document).unwrap();
    assert!(first == second, "two renderings differ");
}

#[test]
fn the_package_has_every_part_in_a_fixed_order_and_date() {
    let docx = render(&sample::document(2024)).unwrap();
    let names: Vec<String> = parts(&docx).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "[Content_Types].xml",
            "_rels/.rels",
            "docProps/app.xml",
            "docProps/core.xml",
            "word/_rels/document.xml.rels",
            "word/document.xml",
            "word/styles.xml",
            "word/settings.xml",
            "word/header1.xml",
            "word/header2.xml",
        ]
    );
}

#[test]
fn every_part_is_well_formed_xml() {
    let docx = render(&sample::document(2024)).unwrap();
    for (name, text) in parts(&docx) {
        let mut reader = quick_xml::Reader::from_str(&text);
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(_) => {}
                Err(error) => panic!("{name}: {error}"),
            }
        }
    }
}

#[test]
fn no_dates_or_ids_are_written() {
    let docx = render(&sample::document(2024)).unwrap();
    let core = part(&docx, "docProps/core.xml");
    assert!(!core.contains("dcterms:created") && !core.contains("dcterms:modified"));
    assert!(core.contains(
        "<dc:title>BÁO CÁO Kết quả thực hiện Kế hoạch số 136/KH-UBND năm 2024</dc:title>"
    ));
    for (name, text) in parts(&docx) {
        assert!(!text.contains("w:rsid"), "{name}");
    }
}

#[test]
fn text_is_escaped_kept_as_written_and_breaks_lines() {
    let mut document = sample::document(2024);
    document.body = vec![
        Block::Paragraph(vec![Span::bold("A & B <c> \"d\"  ")]),
        Block::quote("dòng một\ndòng hai"),
    ];
    let body = part(&render(&document).unwrap(), "word/document.xml");
    assert!(
        body.contains(
            "<w:r><w:rPr><w:b/><w:bCs/></w:rPr>\
             <w:t xml:space=\"preserve\">A &amp; B &lt;c&gt; \"d\"  </w:t></w:r>"
        ),
        "{body}"
    );
    assert!(body.contains(
        "<w:t xml:space=\"preserve\">dòng một</w:t><w:br/>\
         <w:t xml:space=\"preserve\">dòng hai</w:t>"
    ));
}

#[test]
fn the_header_row_repeats_and_the_page_is_a4_with_decree_margins() {
    let body = part(
        &render(&sample::document(2024)).unwrap(),
        "word/document.xml",
    );
    assert_eq!(body.matches("<w:tblHeader/>").count(), 1);
    assert!(
        body.contains("<w:pgSz w:w=\"11906\" w:h=\"16838\"/>"),
        "{body}"
    );
    assert!(
        body.contains("<w:pgMar w:top=\"1134\" w:right=\"850\" w:bottom=\"1134\" w:left=\"1701\"")
    );
    // Page numbers from page 2: a different, empty first-page header.
    assert!(body.contains("<w:titlePg/>"));
}

#[test]
fn decree_texts_are_upper_cased_and_composed() {
    let mut document = sample::document(2024);
    document.header.issuing_body = "So\u{031B}\u{0309} Khoa học".into();
    let body = part(&render(&document).unwrap(), "word/document.xml");
    assert!(body.contains(">SỞ KHOA HỌC<"), "{body}");
    assert!(body.contains(">UBND TỈNH ĐỒNG THÁP<"));
}

#[test]
fn the_styles_name_times_new_roman_at_14_points() {
    let styles = part(&render(&sample::document(2024)).unwrap(), "word/styles.xml");
    assert!(styles.contains("w:ascii=\"Times New Roman\""));
    assert!(styles.contains("<w:sz w:val=\"28\"/>"));
    assert!(styles.contains("w:styleId=\"Heading1\""));
}

#[test]
fn the_rule_estimate_is_near_the_real_width() {
    // Widths in Liberation Serif (the advances of Times New Roman), from its hmtx table.
    for (text, size, bold, measured) in [
        ("SỞ KHOA HỌC VÀ CÔNG NGHỆ", 13.0, true, 198.99),
        ("SỞ NÔNG NGHIỆP VÀ PHÁT TRIỂN NÔNG THÔN", 13.0, true, 303.72),
        ("VĂN PHÒNG", 13.0, true, 79.08),
        (
            "Kết quả thực hiện Kế hoạch số 136/KH-UBND năm 2024",
            14.0,
            true,
            339.36,
        ),
    ] {
        let estimate = body::estimated_width_pt(text, size, bold);
        let error = (estimate - measured).abs() / measured;
        assert!(error < 0.05, "{text}: {estimate} vs {measured}");
    }
}
