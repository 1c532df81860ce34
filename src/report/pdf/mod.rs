//! The report as a PDF to file: A4, Liberation Serif embedded (subset), every glyph
//! mapped back to its text so the PDF can be searched and copied.
//!
//! Written with `krilla`, which embeds and subsets TrueType fonts as CID fonts with
//! ToUnicode maps and derives the document ids from the content (no dates), so the output
//! is deterministic. Line breaking and pagination are done here with the fonts' advance
//! widths (read with `skrifa`, which krilla itself uses). `printpdf` was the other
//! candidate: its text layout pulls in a whole HTML layout engine, and without it the
//! caller still does line breaking. Building krilla without default features leaves out
//! its image codecs and text shaper; Vietnamese in NFC needs no shaping, as every letter
//! is one precomposed glyph. What remains costs about a minute of CPU on a cold debug
//! build, mostly the font-table crates under its subsetter.

mod layout;
mod lines;
mod metrics;

use krilla::geom::{PathBuilder, Point};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::Stroke;
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};

use self::layout::Op;
use self::lines::TextLine;
use self::metrics::Faces;
use super::style::{self, PT_PER_MM};
use super::{Document, Fonts, RenderError};

/// Renders `document` as a PDF set in `fonts`.
pub fn render(document: &Document, fonts: &Fonts) -> Result<Vec<u8>, RenderError> {
    let document = document.prepared()?;
    let faces = Faces::new(fonts)?;
    let pages = layout::pages(&faces, &document)?;
    let pdf_fonts = fonts
        .faces
        .iter()
        .map(|face| {
            Font::new(face.data.clone().into(), 0).ok_or_else(|| RenderError::FontInvalid {
                path: face.file.into(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;

    let mut pdf = krilla::Document::new();
    pdf.set_metadata(
        Metadata::new()
            .title(document.title.one_line())
            .language("vi".to_owned()),
    );
    let size = PageSettings::from_wh(
        style::PAGE_WIDTH_MM * PT_PER_MM,
        style::PAGE_HEIGHT_MM * PT_PER_MM,
    )
    .ok_or_else(|| RenderError::Pdf("bad page size".to_owned()))?;
    for ops in &pages {
        let mut page = pdf.start_page_with(size.clone());
        let mut surface = page.surface();
        for op in ops {
            draw(&mut surface, op, &pdf_fonts);
        }
        surface.finish();
        page.finish();
    }
    pdf.finish().map_err(|e| RenderError::Pdf(e.to_string()))
}

fn draw(surface: &mut Surface<'_>, op: &Op, fonts: &[Font]) {
    match op {
        Op::Text {
            x,
            baseline,
            line,
            extra,
        } => draw_line(surface, *x, *baseline, line, *extra, fonts),
        Op::Rule { from, to, width } => {
            let mut path = PathBuilder::new();
            path.move_to(from.0, from.1);
            path.line_to(to.0, to.1);
            let Some(path) = path.finish() else { return };
            surface.set_fill(None);
            surface.set_stroke(Some(Stroke {
                width: *width,
                ..Stroke::default()
            }));
            surface.draw_path(&path);
            // Text is filled, never stroked.
            surface.set_stroke(None);
        }
    }
}

/// One text line, as one run of glyphs per face and size, each glyph carrying its
/// character so the PDF maps it back to text.
fn draw_line(
    surface: &mut Surface<'_>,
    x: f32,
    baseline: f32,
    line: &TextLine,
    extra: f32,
    fonts: &[Font],
) {
    let mut x = x;
    for run in line.glyphs.chunk_by(|a, b| a.style == b.style) {
        let Some(first) = run.first() else { continue };
        let size = first.style.size;
        let Some(font) = fonts.get(first.style.face.0) else {
            continue;
        };
        let mut text = String::new();
        let mut glyphs = Vec::with_capacity(run.len());
        let mut advance = 0.0;
        for glyph in run {
            let start = text.len();
            text.push(glyph.ch);
            let width = glyph.advance + if glyph.ch == ' ' { extra } else { 0.0 };
            advance += width;
            glyphs.push(KrillaGlyph::new(
                GlyphId::new(glyph.id),
                width / size,
                0.0,
                0.0,
                0.0,
                start..text.len(),
                None,
            ));
        }
        surface.draw_glyphs(
            Point::from_xy(x, baseline),
            &glyphs,
            font.clone(),
            &text,
            size,
            false,
        );
        x += advance;
    }
}

#[cfg(test)]
mod tests;
