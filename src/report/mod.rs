//! Report documents: a plain model of a Vietnamese administrative report (Decree
//! 30/2020/NĐ-CP) and two renderers, DOCX for the agencies to edit and PDF to file.
//!
//! ```no_run
//! use khcn_hub::report::{self, Document, Fonts};
//! # fn build() -> Document { unimplemented!() }
//! let document: Document = build();
//! let docx: Vec<u8> = report::docx::render(&document)?;
//! let fonts = Fonts::load(None)?;
//! let pdf: Vec<u8> = report::pdf::render(&document, &fonts)?;
//! # Ok::<(), report::RenderError>(())
//! ```
//!
//! Both renderers are deterministic: the same document gives the same bytes, with no
//! dates, random ids or paths in the output.

pub mod document;
pub mod docx;
mod error;
mod fonts;
mod format;
pub mod pdf;
pub mod sample;
mod style;
pub mod yearly;

pub use document::{
    Align, Block, Closing, Column, Document, Header, HeadingLevel, Marker, Signature, Span, Table,
    Title,
};
pub use error::RenderError;
pub use fonts::{FONT_DIR, FONT_FILES, FONT_PACKAGE, Fonts, ReportFonts};
pub use format::Format;
