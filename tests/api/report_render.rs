//! The report renderers checked by real readers: python-docx reads the DOCX back, and
//! poppler (`pdftotext`, `pdffonts`, `pdftoppm`) reads the PDF. The sample report is
//! full of Vietnamese, with a table over a page break, a quotation and "chưa có số liệu".
//! The files are kept under `<target>/tmp/report/`.
//!
//! The tools are Debian's `poppler-utils` and `fonts-liberation2`, and python-docx from
//! `tools/report-check/install`. Without one a test prints `skipped: <why>` and passes,
//! unless `KHCN_HUB_TEST_REQUIRE_REPORT_TOOLS=1`, which `.ci/run` sets.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use khcn_hub::report::{self, Block, Fonts, sample};
use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

const SUBJECT: &str = "Kết quả thực hiện Kế hoạch số 136/KH-UBND năm 2024";

/// Says why the test cannot run; fails instead when the tools are required.
pub(crate) fn skip(why: &str) {
    assert!(
        std::env::var_os("KHCN_HUB_TEST_REQUIRE_REPORT_TOOLS").is_none(),
        "KHCN_HUB_TEST_REQUIRE_REPORT_TOOLS is set, but {why}"
    );
    eprintln!("skipped: {why}");
}

pub(crate) fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs a tool; `None` when it is not installed.
pub(crate) fn run(program: &Path, args: &[&str]) -> Option<Output> {
    match Command::new(program).args(args).output() {
        Ok(output) => Some(output),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => panic!("{}: {error}", program.display()),
    }
}

pub(crate) fn stdout(output: &Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what}: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Runs of white space as one space, as a line break in the PDF reads back.
pub(crate) fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(crate) fn python_docx() -> Option<PathBuf> {
    let venv = std::env::var_os("KHCN_HUB_REPORT_CHECK_VENV").map_or_else(
        || {
            Path::new(&std::env::var("HOME").unwrap_or_default())
                .join(".cache/khcn-hub/report-check-venv")
        },
        PathBuf::from,
    );
    let python = venv.join("bin/python");
    python.exists().then_some(python)
}

/// What python-docx reads from the file at `path` (`tools/report-check/docx-text`).
pub(crate) fn docx_text(python: &Path, path: &Path) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/report-check/docx-text");
    let output = run(python, &[script.to_str().unwrap(), path.to_str().unwrap()]).unwrap();
    serde_json::from_str(&stdout(&output, "docx-text")).unwrap()
}

#[test]
fn python_docx_reads_the_docx_back() {
    let Some(python) = python_docx() else {
        return skip("python-docx is not installed (tools/report-check/install)");
    };
    let document = sample::document(2024);
    let path = out_dir().join("sample.docx");
    std::fs::write(&path, report::docx::render(&document).unwrap()).unwrap();
    let read = docx_text(&python, &path);

    let paragraphs: Vec<&str> = read["paragraphs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    let styles = read["styles"].as_array().unwrap();
    let style_of = |text: &str| {
        let i = paragraphs.iter().position(|p| *p == text).unwrap();
        styles[i].as_str().unwrap().to_owned()
    };
    assert_eq!(paragraphs[..2], ["BÁO CÁO", SUBJECT]);
    assert_eq!(style_of("I. KẾT QUẢ THỰC HIỆN"), "Heading 1");
    assert_eq!(style_of("a) Ý kiến của cơ quan phối hợp"), "Heading 3");
    // The agency's text, byte for byte, its line break included.
    assert_eq!(style_of(sample::QUOTE), "Quote");
    assert_eq!(style_of("Chưa có số liệu."), "No Data");
    assert!(paragraphs.contains(
        &"+ Trong đó, 05 doanh nghiệp thuộc lĩnh vực nông nghiệp ứng dụng công nghệ cao."
    ));

    let tables = read["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 3, "header, data and closing tables");
    let header = &tables[0];
    assert!(
        header[0][0]
            .as_str()
            .unwrap()
            .starts_with("UBND TỈNH ĐỒNG THÁP\nSỞ KHOA HỌC VÀ CÔNG NGHỆ")
    );
    assert_eq!(
        header[0][1],
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc"
    );
    assert_eq!(header[1][0], "Số:        /BC-SKHCN");
    assert_eq!(header[1][1], "Đồng Tháp, ngày      tháng      năm 2025");

    let Some(Block::Table(table)) = document.body.iter().find(|b| matches!(b, Block::Table(_)))
    else {
        panic!("the sample has a table");
    };
    let data = tables[1].as_array().unwrap();
    assert_eq!(data.len(), 1 + table.rows.len() + 1);
    let titles: Vec<&str> = table.columns.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(data[0], serde_json::json!(titles));
    for (read_row, row) in data[1..].iter().zip(table.rows.iter().chain(&table.total)) {
        assert_eq!(read_row, &serde_json::json!(row));
    }
    assert_eq!(read["header_rows"], serde_json::json!([0, 1, 0]));
    assert!(
        tables[2][0][0]
            .as_str()
            .unwrap()
            .starts_with("Nơi nhận:\n- UBND Tỉnh (b/c);")
    );
    assert!(
        tables[2][0][1]
            .as_str()
            .unwrap()
            .starts_with("KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC")
    );

    assert_eq!(read["different_first_page"], true);
    assert_eq!(read["first_page_headers"], serde_json::json!([""]));
    assert_eq!(read["page"]["width_mm"], 210.0);
    assert_eq!(read["page"]["height_mm"], 297.0);
    assert_eq!(
        read["page"]["margins_mm"],
        serde_json::json!([20.0, 15.0, 20.0, 30.0])
    );
    assert_eq!(read["core"]["title"], format!("BÁO CÁO {SUBJECT}"));
}

#[test]
fn poppler_reads_the_pdf_back() {
    let fonts = match Fonts::load(None) {
        Ok(fonts) => fonts,
        Err(error) => return skip(&error.to_string()),
    };
    let path = out_dir().join("sample.pdf");
    std::fs::write(
        &path,
        report::pdf::render(&sample::document(2024), &fonts).unwrap(),
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let Some(output) = run(Path::new("pdftotext"), &["-enc", "UTF-8", file, "-"]) else {
        return skip("pdftotext is not installed (Debian's poppler-utils)");
    };
    let text = stdout(&output, "pdftotext");
    assert_eq!(
        text,
        text.nfc().collect::<String>(),
        "the text reads back in NFC"
    );
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    for line in [
        "UBND TỈNH ĐỒNG THÁP",
        "SỞ KHOA HỌC VÀ CÔNG NGHỆ",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "BÁO CÁO",
        SUBJECT,
        "Chưa có số liệu.",
        "chưa có số liệu",
        "Nơi nhận:",
        "- Lưu: VT, QLKH.",
        "KT. GIÁM ĐỐC",
        "PHÓ GIÁM ĐỐC",
    ] {
        assert!(
            lines.iter().any(|l| words(l) == line),
            "{line:?} not in\n{text}"
        );
    }
    let pages = text.matches('\u{c}').count();
    assert!(pages >= 3, "{pages} pages");
    // The table's header row is repeated on the pages the table runs over.
    assert!(
        lines.iter().filter(|l| **l == "Cơ quan chủ trì").count() >= 2,
        "{text}"
    );
    assert!(words(&text).contains(&words(sample::QUOTE)), "{text}");
    // Wide blanks left for the clerk split a line in reading order; the layout keeps it.
    let output = run(
        Path::new("pdftotext"),
        &["-layout", "-enc", "UTF-8", file, "-"],
    )
    .unwrap();
    let layout = words(&stdout(&output, "pdftotext -layout"));
    for line in ["Số: /BC-SKHCN", "Đồng Tháp, ngày tháng năm 2025"] {
        assert!(layout.contains(line), "{line:?} not in\n{layout}");
    }

    fonts_are_embedded(file);
    every_page_renders(file, pages);
}

fn fonts_are_embedded(file: &str) {
    let output = run(Path::new("pdffonts"), &[file]).expect("pdffonts comes with pdftotext");
    let listing = stdout(&output, "pdffonts");
    // name, type, type, encoding, emb, sub, uni, object, generation
    let faces: Vec<Vec<&str>> = listing
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(faces.len(), 4, "{listing}");
    for face in &faces {
        assert!(
            face[0].contains("+LiberationSerif"),
            "not a subset: {listing}"
        );
        assert_eq!(face[4..7], ["yes", "yes", "yes"], "{listing}");
    }
}

fn every_page_renders(file: &str, pages: usize) {
    let dir = out_dir();
    let prefix = dir.join("sample-page");
    for old in std::fs::read_dir(&dir).unwrap() {
        let old = old.unwrap().path();
        if old.to_string_lossy().contains("sample-page") {
            std::fs::remove_file(old).unwrap();
        }
    }
    let output = run(
        Path::new("pdftoppm"),
        &["-png", "-r", "60", file, prefix.to_str().unwrap()],
    )
    .expect("pdftoppm comes with pdftotext");
    stdout(&output, "pdftoppm");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.trim().is_empty(), "pdftoppm complained: {stderr}");
    let pngs = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.starts_with("sample-page") && name.ends_with(".png")
        })
        .count();
    assert_eq!(pngs, pages);
}
