//! Why a document could not be rendered. Its own file so the model, the fonts and the
//! renderers share it without importing the module that re-exports them.

use std::path::PathBuf;

/// Why a document could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A text holds a character neither format can carry (a control character other
    /// than `'\n'`, or a non-character).
    #[error("{place}: character U+{:04X} cannot be written in a document", u32::from(*ch))]
    Character { place: String, ch: char },
    #[error("{place}: a table needs at least one column, and every column a width above 0")]
    TableColumns { place: String },
    #[error("{place}: {found} cells, but the table has {expected} columns")]
    TableRow {
        place: String,
        found: usize,
        expected: usize,
    },
    #[error(
        "report fonts missing: {} (searched {}); install the Debian package `{package}` \
         or point the report font directory at a folder holding them",
        missing.join(", "),
        searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    FontsMissing {
        missing: Vec<&'static str>,
        searched: Vec<PathBuf>,
        package: &'static str,
    },
    #[error("reading font {}: {source}", path.display())]
    FontRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a usable TrueType font", path.display())]
    FontInvalid { path: PathBuf },
    /// The PDF font has no glyph for a character of the document.
    #[error("{place}: the font {font} has no glyph for {ch:?} (U+{:04X})", u32::from(*ch))]
    MissingGlyph {
        place: String,
        font: &'static str,
        ch: char,
    },
    #[error("writing the DOCX package: {0}")]
    Docx(#[from] zip::result::ZipError),
    #[error("writing the PDF: {0}")]
    Pdf(String),
}
