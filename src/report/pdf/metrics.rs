//! Glyph ids and advance widths of the four faces, read with `skrifa`.

use skrifa::charmap::Charmap;
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::{FontRef, MetadataProvider};

use crate::report::{Fonts, RenderError};

/// Which face: an index into [`crate::report::FONT_FILES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct FaceId(pub(super) usize);

impl FaceId {
    pub(super) fn new(bold: bool, italic: bool) -> Self {
        Self(usize::from(bold) + 2 * usize::from(italic))
    }
}

pub(super) struct Face<'a> {
    file: &'static str,
    charmap: Charmap<'a>,
    glyph_metrics: GlyphMetrics<'a>,
    units_per_em: f32,
}

/// The faces, parsed once per rendering.
pub(super) struct Faces<'a> {
    faces: Vec<Face<'a>>,
    /// Above the baseline, in ems (the regular face's).
    pub(super) ascent: f32,
    /// Ascent, descent and line gap: Word's single line, in ems.
    pub(super) single_line: f32,
}

impl<'a> Faces<'a> {
    pub(super) fn new(fonts: &'a Fonts) -> Result<Self, RenderError> {
        let mut faces = Vec::with_capacity(fonts.faces.len());
        let mut vertical = None;
        for face in &fonts.faces {
            let font = FontRef::new(&face.data).map_err(|_| RenderError::FontInvalid {
                path: face.file.into(),
            })?;
            let metrics = font.metrics(Size::unscaled(), LocationRef::default());
            let units_per_em = f32::from(metrics.units_per_em.max(1));
            vertical.get_or_insert((
                metrics.ascent / units_per_em,
                (metrics.ascent - metrics.descent + metrics.leading) / units_per_em,
            ));
            faces.push(Face {
                file: face.file,
                charmap: font.charmap(),
                glyph_metrics: font.glyph_metrics(Size::unscaled(), LocationRef::default()),
                units_per_em,
            });
        }
        let (ascent, single_line) = vertical.unwrap_or((0.891, 1.149));
        Ok(Self {
            faces,
            ascent,
            single_line,
        })
    }

    /// The glyph of `ch` in `face` and its advance in ems; a character the face lacks
    /// is an error, never a blank box in the PDF.
    pub(super) fn glyph(
        &self,
        face: FaceId,
        ch: char,
        place: &str,
    ) -> Result<(u32, f32), RenderError> {
        let missing = || RenderError::MissingGlyph {
            place: place.to_owned(),
            font: self.faces.get(face.0).map_or("?", |f| f.file),
            ch,
        };
        let face = self.faces.get(face.0).ok_or_else(missing)?;
        // Glyph 0 is the font's "missing" box.
        let gid = face
            .charmap
            .map(ch)
            .filter(|gid| gid.to_u32() != 0)
            .ok_or_else(missing)?;
        let advance = face.glyph_metrics.advance_width(gid).unwrap_or(0.0);
        Ok((gid.to_u32(), advance / face.units_per_em))
    }
}
