//! Text to glyphs, and glyphs to lines: greedy breaking at spaces with real advance
//! widths; a word longer than the line breaks between letters.

use super::metrics::{FaceId, Faces};
use crate::report::RenderError;

/// A face at a size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Style {
    pub face: FaceId,
    pub size: f32,
}

impl Style {
    pub(super) fn new(size: f32, bold: bool, italic: bool) -> Self {
        Self {
            face: FaceId::new(bold, italic),
            size,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Glyph {
    pub ch: char,
    pub style: Style,
    pub id: u32,
    /// In points.
    pub advance: f32,
}

impl Glyph {
    fn is_space(&self) -> bool {
        self.ch == ' '
    }
}

/// One line: its glyphs, natural width, spaces (where justification stretches), and
/// whether it ends its paragraph or a forced break (and so is never stretched).
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct TextLine {
    pub glyphs: Vec<Glyph>,
    pub width: f32,
    pub spaces: usize,
    pub last: bool,
}

/// The glyphs of styled runs; `'\n'` stays as a zero-width break glyph.
pub(super) fn shape(
    faces: &Faces<'_>,
    runs: &[(Style, &str)],
    place: &str,
) -> Result<Vec<Glyph>, RenderError> {
    let mut glyphs = Vec::new();
    for (style, text) in runs {
        for ch in text.chars() {
            let (id, advance) = if ch == '\n' {
                (0, 0.0)
            } else {
                faces.glyph(style.face, ch, place)?
            };
            glyphs.push(Glyph {
                ch,
                style: *style,
                id,
                advance: advance * style.size,
            });
        }
    }
    Ok(glyphs)
}

/// Breaks glyphs into lines `width` wide, the first `first_width` wide.
pub(super) fn break_lines(glyphs: &[Glyph], first_width: f32, width: f32) -> Vec<TextLine> {
    let mut breaker = Breaker {
        lines: Vec::new(),
        line: TextLine::default(),
        pending: Vec::new(),
        first_width,
        width,
        wrapped: false,
    };
    let mut i = 0;
    while i < glyphs.len() {
        let glyph = &glyphs[i];
        if glyph.ch == '\n' {
            breaker.end_line(true);
            i += 1;
        } else if glyph.is_space() {
            // Spaces that a wrap put at the start of a line vanish; others are kept.
            if !(breaker.wrapped && breaker.line.glyphs.is_empty()) {
                breaker.pending.push(glyph.clone());
            }
            i += 1;
        } else {
            let end = glyphs[i..]
                .iter()
                .position(|g| g.ch == '\n' || g.is_space())
                .map_or(glyphs.len(), |n| i + n);
            breaker.word(&glyphs[i..end]);
            i = end;
        }
    }
    breaker.end_line(true);
    breaker.lines
}

struct Breaker {
    lines: Vec<TextLine>,
    line: TextLine,
    /// Spaces after the last word, placed only when another word follows on the line.
    pending: Vec<Glyph>,
    first_width: f32,
    width: f32,
    /// The current line began at a wrap rather than at a paragraph or forced break.
    wrapped: bool,
}

/// Rounding in sums of advances must not push a word that fits to the next line.
const SLACK: f32 = 0.01;

impl Breaker {
    fn available(&self) -> f32 {
        if self.lines.is_empty() {
            self.first_width
        } else {
            self.width
        }
    }

    fn word(&mut self, word: &[Glyph]) {
        let word_width: f32 = word.iter().map(|g| g.advance).sum();
        let pending: f32 = self.pending.iter().map(|g| g.advance).sum();
        if self.line.width + pending + word_width <= self.available() + SLACK {
            self.push_pending();
            self.push(word);
        } else if self.line.glyphs.is_empty() {
            self.push_pending();
            self.split(word);
        } else {
            self.end_line(false);
            if word_width <= self.available() + SLACK {
                self.push(word);
            } else {
                self.split(word);
            }
        }
    }

    /// A word wider than a line: as many letters per line as fit, at least one.
    fn split(&mut self, word: &[Glyph]) {
        for glyph in word {
            let fits = self.line.width + glyph.advance <= self.available() + SLACK;
            if !fits && !self.line.glyphs.is_empty() {
                self.end_line(false);
            }
            self.push(std::slice::from_ref(glyph));
        }
    }

    fn push_pending(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        self.push(&pending);
    }

    fn push(&mut self, glyphs: &[Glyph]) {
        for glyph in glyphs {
            self.line.width += glyph.advance;
            self.line.spaces += usize::from(glyph.is_space());
            self.line.glyphs.push(glyph.clone());
        }
    }

    fn end_line(&mut self, last: bool) {
        self.pending.clear();
        let mut line = std::mem::take(&mut self.line);
        line.last = last;
        self.lines.push(line);
        self.wrapped = !last;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every letter 1 pt wide, spaces 1 pt.
    fn glyphs(text: &str) -> Vec<Glyph> {
        text.chars()
            .map(|ch| Glyph {
                ch,
                style: Style::new(10.0, false, false),
                id: 1,
                advance: if ch == '\n' { 0.0 } else { 1.0 },
            })
            .collect()
    }

    fn texts(lines: &[TextLine]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.glyphs.iter().map(|g| g.ch).collect())
            .collect()
    }

    #[test]
    fn words_wrap_at_spaces_and_the_spaces_at_a_wrap_vanish() {
        let lines = break_lines(&glyphs("aaa bbb  ccc dd"), 7.0, 7.0);
        assert_eq!(texts(&lines), ["aaa bbb", "ccc dd"]);
        assert_eq!(lines[0].spaces, 1);
        assert_eq!(lines[0].width, 7.0);
        assert!(!lines[0].last && lines[1].last);
    }

    #[test]
    fn the_first_line_has_its_own_width() {
        let lines = break_lines(&glyphs("aa bb cc"), 2.0, 5.0);
        assert_eq!(texts(&lines), ["aa", "bb cc"]);
    }

    #[test]
    fn spaces_inside_a_line_are_kept_as_written() {
        let lines = break_lines(&glyphs("Số:        /BC"), 40.0, 40.0);
        assert_eq!(texts(&lines), ["Số:        /BC"]);
        assert_eq!(lines[0].spaces, 8);
    }

    #[test]
    fn a_forced_break_ends_a_line_that_is_not_stretched() {
        let lines = break_lines(&glyphs("ab\n  cd\n"), 10.0, 10.0);
        assert_eq!(texts(&lines), ["ab", "  cd", ""]);
        assert!(lines.iter().all(|l| l.last));
    }

    #[test]
    fn a_word_wider_than_the_line_breaks_between_letters() {
        let lines = break_lines(&glyphs("x abcdefgh"), 3.0, 3.0);
        assert_eq!(texts(&lines), ["x", "abc", "def", "gh"]);
    }

    #[test]
    fn empty_text_is_one_empty_line() {
        let lines = break_lines(&[], 10.0, 10.0);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].glyphs.is_empty());
    }
}
