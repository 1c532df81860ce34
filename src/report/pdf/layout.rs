//! Places the document on A4 pages: positioned lines of glyphs and rules, in points
//! from the top-left corner.

use std::collections::VecDeque;

use super::lines::{Style, TextLine, break_lines, shape};
use super::metrics::Faces;
use crate::report::RenderError;
use crate::report::document::{Align, Block, Closing, Document, Span, Table};
use crate::report::style::{self, Kind, Line, PT_PER_MM, Para, Rule, TextAlign};

/// Something to draw on a page.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Op {
    /// A line of text starting at `x` on `baseline`; every space gets `extra` more room.
    Text {
        x: f32,
        baseline: f32,
        line: TextLine,
        extra: f32,
    },
    /// A straight line.
    Rule {
        from: (f32, f32),
        to: (f32, f32),
        width: f32,
    },
}

impl Op {
    fn shifted(self, dy: f32) -> Self {
        match self {
            Self::Text {
                x,
                baseline,
                line,
                extra,
            } => Self::Text {
                x,
                baseline: baseline + dy,
                line,
                extra,
            },
            Self::Rule { from, to, width } => Self::Rule {
                from: (from.0, from.1 + dy),
                to: (to.0, to.1 + dy),
                width,
            },
        }
    }
}

/// Lets sums of heights that just fit stay on the page.
const SLACK: f32 = 0.01;

pub(super) struct Layout<'a> {
    faces: &'a Faces<'a>,
    pages: Vec<Vec<Op>>,
    /// The top of the next thing placed.
    y: f32,
    left: f32,
    width: f32,
    top: f32,
    bottom: f32,
}

/// The pages of `document`, each a list of drawing operations.
pub(super) fn pages(faces: &Faces<'_>, document: &Document) -> Result<Vec<Vec<Op>>, RenderError> {
    let top = style::MARGIN_TOP_MM * PT_PER_MM;
    let mut layout = Layout {
        faces,
        pages: vec![Vec::new()],
        y: top,
        left: style::MARGIN_LEFT_MM * PT_PER_MM,
        width: style::text_width_mm() * PT_PER_MM,
        top,
        bottom: (style::PAGE_HEIGHT_MM - style::MARGIN_BOTTOM_MM) * PT_PER_MM,
    };
    layout.header(document)?;
    for (i, block) in document.body.iter().enumerate() {
        layout.block(block, &format!("body[{i}]"))?;
    }
    layout.closing(&document.closing)?;
    layout.page_numbers()?;
    Ok(layout.pages)
}

impl Layout<'_> {
    fn at_top(&self) -> bool {
        self.y <= self.top + SLACK
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = self.top;
    }

    fn push(&mut self, op: Op) {
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
        }
    }

    /// Height of a line of `size` points at `multiple` times single spacing.
    fn line_height(&self, size: f32, multiple: f32) -> f32 {
        size * self.faces.single_line * multiple
    }

    /// From the top of a line box to its baseline: the text sits in the middle.
    fn baseline_offset(&self, size: f32, line_height: f32) -> f32 {
        (line_height - size * self.faces.single_line) / 2.0 + size * self.faces.ascent
    }

    /// The header block and the title, at the top of the first page.
    fn header(&mut self, document: &Document) -> Result<(), RenderError> {
        let [(left_x, left_width), (right_x, right_width)] =
            style::header_columns_mm().map(|(x, w)| (self.left + x * PT_PER_MM, w * PT_PER_MM));
        for (left_lines, right_lines) in style::header_rows(&document.header) {
            let (left, left_height) =
                self.column(&left_lines, left_x, left_width, TextAlign::Center, "header")?;
            let (right, right_height) = self.column(
                &right_lines,
                right_x,
                right_width,
                TextAlign::Center,
                "header",
            )?;
            let y = self.y;
            for op in left.into_iter().chain(right) {
                self.push(op.shifted(y));
            }
            self.y += left_height.max(right_height);
        }
        self.y += style::TITLE_BEFORE_PT;

        let title = style::title(&document.title.kind, &document.title.subject);
        let (ops, height) =
            self.column(&title, self.left, self.width, TextAlign::Center, "title")?;
        let y = self.y;
        for op in ops {
            self.push(op.shifted(y));
        }
        self.y += height + style::TITLE_AFTER_PT;
        Ok(())
    }

    /// Lines of the header, title or closing in a column at `x`, from y = 0; returns the
    /// operations and the height they take.
    fn column(
        &self,
        lines: &[Line<'_>],
        x: f32,
        width: f32,
        align: TextAlign,
        place: &str,
    ) -> Result<(Vec<Op>, f32), RenderError> {
        let mut ops = Vec::new();
        let mut y = 0.0;
        for line in lines {
            y += line.before_pt;
            let text_style = Style::new(line.size, line.bold, line.italic);
            let glyphs = shape(self.faces, &[(text_style, line.text)], place)?;
            let broken = break_lines(&glyphs, width, width);
            let height = self.line_height(line.size, 1.0);
            let widest = broken.iter().map(|l| l.width).fold(0.0, f32::max);
            for text in broken {
                let (dx, extra) = aligned(align, &text, width);
                ops.push(Op::Text {
                    x: x + dx,
                    baseline: y + self.baseline_offset(line.size, height),
                    line: text,
                    extra,
                });
                y += height;
            }
            let rule = match line.rule {
                Rule::None => continue,
                Rule::Short => widest * style::SHORT_RULE_SHARE,
                Rule::Full => widest,
            };
            let start = x + (width - rule) / 2.0;
            y += style::RULE_GAP_PT;
            ops.push(Op::Rule {
                from: (start, y),
                to: (start + rule, y),
                width: style::RULE_WIDTH_PT,
            });
            y += style::RULE_GAP_PT;
        }
        Ok((ops, y))
    }

    fn block(&mut self, block: &Block, place: &str) -> Result<(), RenderError> {
        let para = style::para(style::kind_of(block));
        let plain = |text: &str| vec![Span::plain(text)];
        match block {
            Block::Heading { text, .. } => {
                // Keep a heading with the first two lines of what follows.
                let body = style::para(Kind::Body);
                let keep = 2.0 * self.line_height(body.size, body.line);
                self.paragraph(&para, &plain(text), place, keep)
            }
            Block::Quote(text) | Block::NoData(text) => {
                self.paragraph(&para, &plain(text), place, 0.0)
            }
            Block::Paragraph(spans) => self.paragraph(&para, spans, place, 0.0),
            Block::Item { marker, text } => {
                let mut spans = vec![Span::plain(format!("{} ", marker.as_str()))];
                spans.extend(text.iter().cloned());
                self.paragraph(&para, &spans, place, 0.0)
            }
            Block::Table(table) => self.table(table, place),
        }
    }

    /// A paragraph of the body; `keep` is room wanted below it on the same page.
    fn paragraph(
        &mut self,
        para: &Para,
        spans: &[Span],
        place: &str,
        keep: f32,
    ) -> Result<(), RenderError> {
        let runs: Vec<(Style, &str)> = spans
            .iter()
            .map(|s| {
                let style = Style::new(para.size, para.bold || s.bold, para.italic || s.italic);
                (style, s.text.as_str())
            })
            .collect();
        let glyphs = shape(self.faces, &runs, place)?;
        let width = self.width - (para.left_mm + para.right_mm) * PT_PER_MM;
        let first = para.first_line_mm * PT_PER_MM;
        let lines = break_lines(&glyphs, width - first, width);
        let height = self.line_height(para.size, para.line);
        if !self.at_top() {
            self.y += para.before_pt;
        }
        // No line alone at the foot of a page.
        let wanted = height * lines.len().min(2) as f32 + keep;
        if self.y + wanted > self.bottom + SLACK && !self.at_top() {
            self.new_page();
        }
        let count = lines.len();
        for (i, line) in lines.into_iter().enumerate() {
            let room = ((self.bottom + SLACK - self.y) / height).floor();
            // Nor a line alone at the head of the next: its neighbour goes with it.
            let widow = room < 2.0 && count - i == 2 && i >= 2;
            if (room < 1.0 || widow) && !self.at_top() {
                self.new_page();
            }
            let indent = if i == 0 { first } else { 0.0 };
            let (dx, extra) = aligned(para.align, &line, width - indent);
            let x = self.left + para.left_mm * PT_PER_MM + indent + dx;
            let baseline = self.y + self.baseline_offset(para.size, height);
            self.push(Op::Text {
                x,
                baseline,
                line,
                extra,
            });
            self.y += height;
        }
        self.y += para.after_pt;
        Ok(())
    }

    fn closing(&mut self, closing: &Closing) -> Result<(), RenderError> {
        let left_width = self.width * style::CLOSING_LEFT_SHARE;
        let recipients: Vec<String> = closing
            .recipients
            .iter()
            .map(|r| format!("- {r}"))
            .collect();
        let mut left_lines = vec![style::recipients_label()];
        left_lines.extend(recipients.iter().map(|r| style::recipient(r)));
        let (left, left_height) = self.column(
            &left_lines,
            self.left,
            left_width,
            TextAlign::Left,
            "closing",
        )?;

        let mut right_lines = style::signature_titles(&closing.signature);
        // Without a name, the room to sign and a line for the name stay blank.
        let blank = match style::signer(&closing.signature) {
            Some(signer) => {
                right_lines.push(Line {
                    before_pt: style::SIGNATURE_SPACE_PT,
                    ..signer
                });
                0.0
            }
            None => style::SIGNATURE_SPACE_PT + self.line_height(14.0, 1.0),
        };
        let right_x = self.left + left_width;
        let right_width = self.width - left_width;
        let (right, right_height) = self.column(
            &right_lines,
            right_x,
            right_width,
            TextAlign::Center,
            "closing",
        )?;
        let right_height = right_height + blank;

        // The closing stays in one piece.
        let height = style::CLOSING_BEFORE_PT + left_height.max(right_height);
        if self.y + height > self.bottom + SLACK && !self.at_top() {
            self.new_page();
        }
        let y = self.y + style::CLOSING_BEFORE_PT;
        for op in left.into_iter().chain(right) {
            self.push(op.shifted(y));
        }
        self.y += height;
        Ok(())
    }

    /// Page numbers from the second page, centred in the top margin.
    fn page_numbers(&mut self) -> Result<(), RenderError> {
        let size = style::PAGE_NUMBER_PT;
        let baseline = style::PAGE_NUMBER_TOP_MM * PT_PER_MM + size * self.faces.ascent;
        for (i, page) in self.pages.iter_mut().enumerate().skip(1) {
            let number = (i + 1).to_string();
            let glyphs = shape(
                self.faces,
                &[(Style::new(size, false, false), &number)],
                "page number",
            )?;
            let mut lines = break_lines(&glyphs, self.width, self.width);
            let line = lines.pop().unwrap_or_default();
            let (dx, _) = aligned(TextAlign::Center, &line, self.width);
            page.push(Op::Text {
                x: self.left + dx,
                baseline,
                line,
                extra: 0.0,
            });
        }
        Ok(())
    }
}

/// Where a line starts within `width`, and how much each space stretches.
fn aligned(align: TextAlign, line: &TextLine, width: f32) -> (f32, f32) {
    let room = (width - line.width).max(0.0);
    match align {
        TextAlign::Left => (0.0, 0.0),
        TextAlign::Center => (room / 2.0, 0.0),
        TextAlign::Right => (room, 0.0),
        TextAlign::Justify if !line.last && line.spaces > 0 => (0.0, room / line.spaces as f32),
        TextAlign::Justify => (0.0, 0.0),
    }
}

/// A table row: each cell's lines, broken to its column.
#[derive(Debug, Clone)]
struct Row {
    cells: Vec<(Vec<TextLine>, TextAlign)>,
}

impl Row {
    fn lines(&self) -> usize {
        self.cells
            .iter()
            .map(|(l, _)| l.len())
            .max()
            .unwrap_or(0)
            .max(1)
    }

    fn height(&self, line_height: f32) -> f32 {
        self.lines() as f32 * line_height + 2.0 * style::CELL_PAD_Y_PT
    }

    /// Keeps the first `n` lines of each cell here and returns the rest as a new row.
    fn split_off(&mut self, n: usize) -> Row {
        let cells = self
            .cells
            .iter_mut()
            .map(|(lines, align)| (lines.split_off(n.min(lines.len())), *align))
            .collect();
        Row { cells }
    }
}

impl Layout<'_> {
    fn table(&mut self, table: &Table, place: &str) -> Result<(), RenderError> {
        let total: f32 = table.columns.iter().map(|c| f32::from(c.width)).sum();
        let mut edges = vec![self.left];
        for column in &table.columns {
            let last = edges.last().copied().unwrap_or(self.left);
            edges.push(last + self.width * f32::from(column.width) / total);
        }
        let titles: Vec<&str> = table.columns.iter().map(|c| c.title.as_str()).collect();
        let centred = vec![Align::Center; titles.len()];
        let head = self.row(&titles, &edges, &centred, true, place)?;
        let aligns: Vec<Align> = table.columns.iter().map(|c| c.align).collect();
        let mut rows = VecDeque::new();
        for (i, cells) in table.rows.iter().chain(&table.total).enumerate() {
            let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
            let bold = i == table.rows.len();
            rows.push_back(self.row(&cells, &edges, &aligns, bold, place)?);
        }
        self.table_rows(head, rows, &edges);
        self.y += style::para(Kind::Body).after_pt;
        Ok(())
    }

    fn row(
        &self,
        cells: &[&str],
        edges: &[f32],
        aligns: &[Align],
        bold: bool,
        place: &str,
    ) -> Result<Row, RenderError> {
        let pad = style::CELL_PAD_X_MM * PT_PER_MM;
        let text_style = Style::new(style::TABLE_PT, bold, false);
        let mut out = Vec::with_capacity(cells.len());
        for (i, (text, align)) in cells.iter().zip(aligns).enumerate() {
            let width = (edges[i + 1] - edges[i] - 2.0 * pad).max(1.0);
            let glyphs = shape(self.faces, &[(text_style, text)], place)?;
            let align = match align {
                Align::Left => TextAlign::Left,
                Align::Center => TextAlign::Center,
                Align::Right => TextAlign::Right,
            };
            out.push((break_lines(&glyphs, width, width), align));
        }
        Ok(Row { cells: out })
    }

    /// Places the rows, starting a new page (under a repeated header row) when one does
    /// not fit; a row taller than a page is split between lines.
    fn table_rows(&mut self, head: Row, mut rows: VecDeque<Row>, edges: &[f32]) {
        let line_height = self.line_height(style::TABLE_PT, 1.0);
        let pad = style::CELL_PAD_Y_PT;
        // The header row with two lines of the first row, or a new page.
        let first = rows.front().map_or(0.0, |r| {
            r.height(line_height).min(2.0 * line_height + 2.0 * pad)
        });
        if self.y + head.height(line_height) + first > self.bottom + SLACK && !self.at_top() {
            self.new_page();
        }
        self.draw_row(&head, edges, line_height);
        let mut rows_on_page = 0;
        while let Some(mut row) = rows.pop_front() {
            if self.y + row.height(line_height) > self.bottom + SLACK {
                if rows_on_page > 0 {
                    self.horizontal(edges, self.y);
                    self.new_page();
                    self.draw_row(&head, edges, line_height);
                    rows_on_page = 0;
                    rows.push_front(row);
                    continue;
                }
                let room = ((self.bottom - self.y - 2.0 * pad) / line_height).floor();
                let room = (room.max(1.0)) as usize;
                if room < row.lines() {
                    let rest = row.split_off(room);
                    rows.push_front(rest);
                }
            }
            self.draw_row(&row, edges, line_height);
            rows_on_page += 1;
        }
        self.horizontal(edges, self.y);
    }

    /// A row's top border, its column borders, and its cells centred vertically.
    fn draw_row(&mut self, row: &Row, edges: &[f32], line_height: f32) {
        let top = self.y;
        let height = row.height(line_height);
        self.horizontal(edges, top);
        for x in edges {
            self.push(Op::Rule {
                from: (*x, top),
                to: (*x, top + height),
                width: style::BORDER_WIDTH_PT,
            });
        }
        let pad_x = style::CELL_PAD_X_MM * PT_PER_MM;
        let offset = self.baseline_offset(style::TABLE_PT, line_height);
        for (i, (lines, align)) in row.cells.iter().enumerate() {
            let width = edges[i + 1] - edges[i] - 2.0 * pad_x;
            let content = lines.len() as f32 * line_height;
            let mut y = top + (height - content) / 2.0;
            for line in lines {
                let (dx, extra) = aligned(*align, line, width);
                self.push(Op::Text {
                    x: edges[i] + pad_x + dx,
                    baseline: y + offset,
                    line: line.clone(),
                    extra,
                });
                y += line_height;
            }
        }
        self.y += height;
    }

    fn horizontal(&mut self, edges: &[f32], y: f32) {
        let (Some(first), Some(last)) = (edges.first(), edges.last()) else {
            return;
        };
        self.push(Op::Rule {
            from: (*first, y),
            to: (*last, y),
            width: style::BORDER_WIDTH_PT,
        });
    }
}
