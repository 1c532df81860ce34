use super::layout::{Op, pages};
use super::*;
use crate::report::document::{Block, HeadingLevel};
use crate::report::sample;

/// The fonts of `fonts-liberation2`, or `None` (the test then skips) where they are not
/// installed and `KHCN_HUB_TEST_REQUIRE_REPORT_TOOLS` is not set.
fn fonts() -> Option<Fonts> {
    match Fonts::load(None) {
        Ok(fonts) => Some(fonts),
        Err(error) => {
            assert!(
                std::env::var_os("KHCN_HUB_TEST_REQUIRE_REPORT_TOOLS").is_none(),
                "{error}"
            );
            eprintln!("skipped: {error}");
            None
        }
    }
}

fn text_of(op: &Op) -> Option<String> {
    match op {
        Op::Text { line, .. } => Some(line.glyphs.iter().map(|g| g.ch).collect()),
        Op::Rule { .. } => None,
    }
}

fn page_texts(fonts: &Fonts, document: &Document) -> Vec<Vec<String>> {
    let faces = Faces::new(fonts).unwrap();
    let prepared = document.prepared().unwrap();
    pages(&faces, &prepared)
        .unwrap()
        .iter()
        .map(|ops| ops.iter().filter_map(text_of).collect())
        .collect()
}

#[test]
fn the_same_document_gives_the_same_bytes() {
    let Some(fonts) = fonts() else { return };
    let document = sample::document(2024);
    let first = render(&document, &fonts).unwrap();
    let second = render(&document, &fonts).unwrap();
    assert!(first.starts_with(b"%PDF-"));
    assert!(first == second, "two renderings differ");
    // Reloaded fonts give the same bytes too: nothing depends on the process.
    let again = render(&document, &Fonts::load(None).unwrap()).unwrap();
    assert!(first == again, "renderings with reloaded fonts differ");
}

#[test]
fn no_dates_are_written() {
    let Some(fonts) = fonts() else { return };
    let pdf = render(&sample::document(2024), &fonts).unwrap();
    let text = String::from_utf8_lossy(&pdf);
    assert!(!text.contains("/CreationDate") && !text.contains("/ModDate"));
    assert!(!text.contains("xmp:CreateDate"));
}

#[test]
fn the_table_runs_over_a_page_break_under_a_repeated_header_row() {
    let Some(fonts) = fonts() else { return };
    let faces = Faces::new(&fonts).unwrap();
    let document = sample::document(2024).prepared().unwrap();
    let top_margin = style::MARGIN_TOP_MM * PT_PER_MM;
    let mut header_pages = Vec::new();
    let mut rows = Vec::new();
    for (page, ops) in pages(&faces, &document).unwrap().iter().enumerate() {
        for op in ops {
            if matches!(op, Op::Text { baseline, .. } if *baseline < top_margin) {
                continue;
            }
            let Some(text) = text_of(op) else { continue };
            if text == "Cơ quan chủ trì" {
                header_pages.push(page);
            }
            if let Ok(number) = text.parse::<usize>() {
                rows.push((page, number));
            }
        }
    }
    assert!(header_pages.len() >= 2, "{header_pages:?}");
    assert!(header_pages.windows(2).all(|w| w[1] == w[0] + 1));
    let numbers: Vec<usize> = rows.iter().map(|r| r.1).collect();
    assert_eq!(numbers, (1..=sample::TABLE_ROWS).collect::<Vec<_>>());
    assert!(rows.first().map(|r| r.0) < rows.last().map(|r| r.0));
}

#[test]
fn pages_are_numbered_from_the_second_in_the_top_margin() {
    let Some(fonts) = fonts() else { return };
    let faces = Faces::new(&fonts).unwrap();
    let document = sample::document(2024).prepared().unwrap();
    let pages = pages(&faces, &document).unwrap();
    assert!(pages.len() >= 3);
    let top_margin = style::MARGIN_TOP_MM * PT_PER_MM;
    for (i, ops) in pages.iter().enumerate() {
        let numbers: Vec<String> = ops
            .iter()
            .filter(|op| matches!(op, Op::Text { baseline, .. } if *baseline < top_margin))
            .filter_map(text_of)
            .collect();
        if i == 0 {
            assert!(numbers.is_empty(), "{numbers:?}");
        } else {
            assert_eq!(numbers, [(i + 1).to_string()]);
        }
    }
}

#[test]
fn justified_lines_fill_the_width_and_nothing_leaves_the_page() {
    let Some(fonts) = fonts() else { return };
    let faces = Faces::new(&fonts).unwrap();
    let document = sample::document(2024).prepared().unwrap();
    let page_width = style::PAGE_WIDTH_MM * PT_PER_MM;
    let right = page_width - style::MARGIN_RIGHT_MM * PT_PER_MM;
    let bottom = (style::PAGE_HEIGHT_MM - style::MARGIN_BOTTOM_MM) * PT_PER_MM;
    let mut stretched = 0;
    for op in pages(&faces, &document).unwrap().iter().flatten() {
        let Op::Text {
            x,
            baseline,
            line,
            extra,
        } = op
        else {
            continue;
        };
        let end = x + line.width + extra * line.spaces as f32;
        assert!(end <= right + 0.01, "{:?} ends at {end}", text_of(op));
        assert!(*baseline < bottom, "{:?}", text_of(op));
        if *extra > 0.0 {
            stretched += 1;
            // At the right margin, or at a quotation's right indent.
            let quote = right - style::para(style::Kind::Quote).right_mm * PT_PER_MM;
            let at_edge = (end - right).abs() < 0.05 || (end - quote).abs() < 0.05;
            assert!(at_edge, "{:?} ends at {end}", text_of(op));
        }
    }
    assert!(stretched > 3);
}

#[test]
fn a_character_the_font_lacks_is_an_error_naming_its_place() {
    let Some(fonts) = fonts() else { return };
    let mut document = sample::document(2024);
    document
        .body
        .insert(1, Block::heading(HeadingLevel::Two, "漢字"));
    let error = render(&document, &fonts).unwrap_err();
    assert!(
        matches!(&error, RenderError::MissingGlyph { place, ch: '漢', .. } if place == "body[1]"),
        "{error}"
    );
}

#[test]
fn every_vietnamese_letter_has_a_glyph_in_every_face() {
    let Some(fonts) = fonts() else { return };
    let faces = Faces::new(&fonts).unwrap();
    let lower = "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợ\
                 pqrstuùúủũụưừứửữựvxyỳýỷỹỵ";
    for ch in lower.chars().chain(lower.to_uppercase().chars()) {
        for face in 0..4 {
            faces.glyph(metrics::FaceId(face), ch, "test").unwrap();
        }
    }
}

#[test]
fn the_closing_stays_on_one_page() {
    let Some(fonts) = fonts() else { return };
    let pages = page_texts(&fonts, &sample::document(2024));
    let last = pages.last().unwrap();
    for text in [
        "Nơi nhận:",
        "- Lưu: VT, QLKH.",
        "KT. GIÁM ĐỐC",
        "PHÓ GIÁM ĐỐC",
    ] {
        assert!(
            last.iter().any(|t| t == text),
            "{text} not on the last page"
        );
    }
}
