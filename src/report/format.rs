//! The two files a report is written as.

use std::str::FromStr;

use super::document::Document;
use super::error::RenderError;
use super::fonts::ReportFonts;

/// DOCX is what agencies edit; PDF is what is filed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Docx,
    Pdf,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Docx => "docx",
            Self::Pdf => "pdf",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Pdf => "application/pdf",
        }
    }

    /// The document's bytes. A PDF embeds its fonts (read once per `fonts`).
    pub fn render(self, document: &Document, fonts: &ReportFonts) -> Result<Vec<u8>, RenderError> {
        match self {
            Self::Docx => super::docx::render(document),
            Self::Pdf => super::pdf::render(document, fonts.get()?),
        }
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "docx" => Ok(Self::Docx),
            "pdf" => Ok(Self::Pdf),
            other => Err(format!("unknown report format {other:?}: docx or pdf")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_named_by_their_extension() {
        assert_eq!("docx".parse(), Ok(Format::Docx));
        assert_eq!("PDF".parse(), Ok(Format::Pdf));
        assert!("odt".parse::<Format>().is_err());
        assert_eq!(Format::Pdf.extension(), "pdf");
    }
}
