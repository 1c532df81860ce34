//! The report as a Word document (WordprocessingML in a zip), for agencies to edit.
//!
//! The XML is written here rather than through a DOCX crate: the document needs only
//! paragraphs, runs, tables, borders and one field, and writing them directly keeps
//! every byte under control. `docx-rs` (the maintained DOCX writer) stamps the current
//! time into `docProps/core.xml` and the zip entries unless each is overridden, and pulls
//! in image codecs the report does not use. The zip is the `zip` crate the XLSX exports
//! already build, with a fixed timestamp and entry order, so the same document always
//! gives the same bytes.

mod body;
mod parts;
mod units;
mod xml;

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::{Document, RenderError};

/// Renders `document` as a `.docx` file (Times New Roman, A4, Decree 30 margins).
pub fn render(document: &Document) -> Result<Vec<u8>, RenderError> {
    let document = document.prepared()?;
    let parts = [
        ("[Content_Types].xml", parts::content_types()),
        ("_rels/.rels", parts::package_relationships()),
        ("docProps/app.xml", parts::app_properties()),
        (
            "docProps/core.xml",
            parts::core_properties(&document.title.one_line()),
        ),
        (
            "word/_rels/document.xml.rels",
            parts::document_relationships(),
        ),
        ("word/document.xml", body::document(&document)),
        ("word/styles.xml", parts::styles()),
        ("word/settings.xml", parts::settings()),
        ("word/header1.xml", parts::header_with_page_number()),
        ("word/header2.xml", parts::header_empty()),
    ];
    package(&parts)
}

/// A zip with the parts in the given order, each deflated and dated 1980-01-01.
fn package(parts: &[(&str, String)]) -> Result<Vec<u8>, RenderError> {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(6))
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in parts {
        zip.start_file(*name, options)?;
        zip.write_all(content.as_bytes())
            .map_err(zip::result::ZipError::Io)?;
    }
    Ok(zip.finish()?.into_inner())
}

#[cfg(test)]
mod tests;
