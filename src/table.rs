//! Text tables, laid out by comfy-table with widths in display columns (unicode-width), so a
//! CJK member name takes the two columns a terminal gives each of its characters.
//!
//! Printed to a file or a pipe ([`Width::Full`]) a table is complete: every column, every cell
//! on one line, the same bytes on every run. On a terminal ([`Width::Terminal`]) it fits the
//! terminal: text cells and headers wrap (a number never does), and when even that is too wide the
//! droppable columns are left out, lowest rank first; the caller names them under the table.

use comfy_table::{
    presets, CellAlignment, ColumnConstraint, ContentArrangement, Table, Width as Bound,
};
use unicode_width::UnicodeWidthStr;

/// Where text is printed, and so how wide it may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    /// A file or a pipe: no limit, every column.
    Full,
    /// A terminal this many columns wide.
    Terminal(u16),
}

/// The widest a cell is shown, in display columns; a wider one (only a pasted value could be)
/// is cut there and ends in `…`. comfy-table counts widths in `u16`, and nobody reads further.
const MAX_CELL: usize = 4096;

/// Spaces between two columns.
const GAP: u16 = 2;

/// The narrowest a text column gets before its words break: a member name or an event detail
/// may wrap, but not into slivers.
const TEXT_MIN: usize = 16;

/// The narrowest a number column gets for its header: a long header (a variant's JSON value)
/// wraps or breaks rather than widening the column.
const HEADER_MIN: usize = 12;

/// One column: its header, whether it holds numbers (right-aligned, never broken) or text
/// (left-aligned, wraps unless whole), and whether a narrow terminal may leave it out.
#[derive(Clone, Debug)]
pub struct Column {
    header: String,
    number: bool,
    /// A text column whose cells never wrap (short labels).
    whole: bool,
    /// `Some(rank)`: left out on a narrow terminal, rank 1 first.
    drop_rank: Option<u8>,
}

impl Column {
    /// A left-aligned column whose cells wrap on a narrow terminal.
    pub fn text(header: &str) -> Column {
        Column {
            header: header.into(),
            number: false,
            whole: false,
            drop_rank: None,
        }
    }

    /// A text column whose cells are never wrapped: labels short enough to always fit.
    pub fn whole(self) -> Column {
        Column {
            whole: true,
            ..self
        }
    }

    /// A right-aligned column whose cells (numbers, `mean ± half-width`) are never wrapped; a
    /// long header wraps.
    pub fn number(header: &str) -> Column {
        Column {
            number: true,
            ..Column::text(header)
        }
    }

    /// The column may be left out on a narrow terminal; lower ranks go first.
    pub fn droppable(self, rank: u8) -> Column {
        Column {
            drop_rank: Some(rank),
            ..self
        }
    }
}

/// Rows of cells under a header row (omitted when every header is empty).
#[derive(Clone, Debug)]
pub struct TextTable {
    columns: Vec<Column>,
    rows: Vec<Vec<String>>,
}

/// A table laid out for a [`Width`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Laid {
    /// The lines, each ending in `\n`, without trailing spaces.
    pub text: String,
    /// Headers of the columns left out to fit, in table order.
    pub dropped: Vec<String>,
    /// Every line is within the width (always with [`Width::Full`]).
    pub fits: bool,
}

impl TextTable {
    pub fn new(columns: Vec<Column>) -> TextTable {
        let columns = columns
            .into_iter()
            .map(|c| Column {
                header: cut(c.header),
                ..c
            })
            .collect();
        TextTable {
            columns,
            rows: Vec::new(),
        }
    }

    /// Adds a row, one cell per column.
    pub fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.rows.push(row.into_iter().map(cut).collect());
    }

    /// The table for `width`: whole with [`Width::Full`]; on a terminal, with the droppable
    /// columns left out one by one, lowest rank first (ties: rightmost first), until it fits.
    pub fn render(&self, width: Width) -> Laid {
        let mut order: Vec<usize> = (0..self.columns.len())
            .filter(|&i| self.columns[i].drop_rank.is_some())
            .collect();
        order.sort_by_key(|&i| (self.columns[i].drop_rank, std::cmp::Reverse(i)));
        let mut hidden = vec![false; self.columns.len()];
        let mut order = order.into_iter();
        loop {
            let text = self.lay_out(width, &hidden);
            let fits = fits(&text, width);
            match order.next() {
                Some(next) if !fits => hidden[next] = true,
                _ => {
                    let dropped = (self.columns.iter().zip(&hidden))
                        .filter(|(_, &h)| h)
                        .map(|(c, _)| c.header.clone())
                        .collect();
                    return Laid {
                        text,
                        dropped,
                        fits,
                    };
                }
            }
        }
    }

    fn lay_out(&self, width: Width, hidden: &[bool]) -> String {
        let full = self.lay_out_within(None, hidden);
        match width {
            // a table that fits is the same on a terminal as in a file
            Width::Terminal(w) if !fits(&full, width) => self.lay_out_within(Some(w), hidden),
            _ => full,
        }
    }

    /// Every cell on one line (`None`) or squeezed into `limit` columns by wrapping cells.
    fn lay_out_within(&self, limit: Option<u16>, hidden: &[bool]) -> String {
        let mut table = Table::new();
        table.load_style(presets::NOTHING);
        if self.columns.iter().any(|c| !c.header.is_empty()) {
            table.set_header(self.columns.iter().map(|c| c.header.as_str()));
        }
        for row in &self.rows {
            table.add_row(row.iter().map(String::as_str));
        }
        match limit {
            None => table.set_content_arrangement(ContentArrangement::Disabled),
            Some(w) => table
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(w),
        };
        let last_shown = hidden.iter().rposition(|h| !h);
        for (i, column) in table.column_iter_mut().enumerate() {
            let spec = &self.columns[i];
            column.set_cell_alignment(if spec.number {
                CellAlignment::Right
            } else {
                CellAlignment::Left
            });
            // the gap is the right padding of every column but the last one shown, so lines
            // start in column 0 and a terminal-wide table has no padding beyond its edge
            let gap = if Some(i) == last_shown { 0 } else { GAP };
            column.set_padding((0, gap));
            if hidden[i] {
                column.set_constraint(ColumnConstraint::Hidden);
            } else if limit.is_some() {
                // comfy-table's bounds include the padding
                let min = self.narrowest(i).saturating_add(gap);
                column.set_constraint(ColumnConstraint::LowerBoundary(Bound::Fixed(min)));
            }
        }
        let mut text = String::new();
        for line in table.lines() {
            text.push_str(line.trim_end());
            text.push('\n');
        }
        text
    }

    /// The narrowest column `i` may be on a terminal: its widest cell for numbers and whole
    /// text (never wrapped), its longest word for other text, capped at [`TEXT_MIN`].
    fn narrowest(&self, i: usize) -> u16 {
        let spec = &self.columns[i];
        let cells = || self.rows.iter().map(|r| r[i].as_str());
        let widest = cells().map(str::width).max().unwrap_or(0);
        let longest_word = |cell: &str| cell.split_whitespace().map(str::width).max().unwrap_or(0);
        let header_word = longest_word(&spec.header);
        let min = if spec.number {
            widest.max(header_word.min(HEADER_MIN))
        } else if spec.whole {
            widest.max(spec.header.width())
        } else {
            cells()
                .map(longest_word)
                .max()
                .unwrap_or(0)
                .max(header_word)
                .min(TEXT_MIN)
        };
        u16::try_from(min).unwrap_or(u16::MAX)
    }
}

/// `cell`, or its first [`MAX_CELL`] − 1 display columns and `…`.
fn cut(cell: String) -> String {
    if cell.width() <= MAX_CELL {
        return cell;
    }
    let mut shown = 0;
    let mut out: String = cell
        .chars()
        .take_while(|c| {
            shown += unicode_width::UnicodeWidthChar::width(*c).unwrap_or(0);
            shown < MAX_CELL
        })
        .collect();
    out.push('…');
    out
}

/// Every line of `text` is within `width`, in display columns.
pub fn fits(text: &str, width: Width) -> bool {
    match width {
        Width::Full => true,
        Width::Terminal(w) => text.lines().all(|l| l.width() <= usize::from(w)),
    }
}

/// A line of prose for `width`: as it is in full; on a terminal wrapped at spaces, the
/// continuation lines indented by two. Ends in `\n`.
pub fn prose(line: &str, width: Width) -> String {
    let mut out = match width {
        Width::Full => line.to_string(),
        Width::Terminal(w) => {
            let options = textwrap::Options::new(usize::from(w)).subsequent_indent("  ");
            textwrap::wrap(line, options).join("\n")
        }
    };
    out.push('\n');
    out
}

/// The line under a table that lost columns to the terminal's width; empty when none did.
pub fn dropped_note(laid: &Laid, width: Width) -> String {
    if laid.dropped.is_empty() {
        return String::new();
    }
    let Width::Terminal(w) = width else {
        return String::new();
    };
    prose(
        &format!(
            "(left out at {w} columns: {}; piped, e.g. `| less -S`, the table has every column)",
            laid.dropped.join(", ")
        ),
        width,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TextTable {
        let mut t = TextTable::new(vec![
            Column::text("member"),
            Column::number("requests"),
            Column::number("peak").droppable(1),
            Column::number("p50 ms").droppable(2),
        ]);
        t.push(vec![
            "订单服务-生产".into(),
            "10901".into(),
            "9".into(),
            "7.307".into(),
        ]);
        t.push(vec![
            "web-a".into(),
            "5".into(),
            "10".into(),
            "39.584".into(),
        ]);
        t
    }

    #[test]
    fn full_width_keeps_every_column_aligned_in_display_columns() {
        let laid = sample().render(Width::Full);
        assert!(laid.dropped.is_empty() && laid.fits);
        let lines: Vec<&str> = laid.text.lines().collect();
        assert_eq!(lines[0], "member         requests  peak  p50 ms");
        // six CJK characters take two columns each: the numbers still line up
        assert_eq!(lines[1], "订单服务-生产     10901     9   7.307");
        assert_eq!(lines[2], "web-a                 5    10  39.584");
        let ends: Vec<usize> = lines.iter().map(|l| l.width()).collect();
        assert_eq!(ends, [37, 37, 37]);
    }

    #[test]
    fn a_narrow_terminal_drops_the_lowest_rank_first() {
        let t = sample();
        let full = t.render(Width::Full).text;
        let widest = full.lines().map(str::width).max().unwrap();
        let laid = t.render(Width::Terminal(widest as u16 - 1));
        assert_eq!(laid.dropped, ["peak"]);
        assert!(laid.fits && !laid.text.contains("peak"), "{}", laid.text);
        let laid = t.render(Width::Terminal(30));
        assert_eq!(laid.dropped, ["peak", "p50 ms"]);
        assert!(laid.fits, "{}", laid.text);
        let note = dropped_note(&laid, Width::Terminal(30));
        assert!(fits(&note, Width::Terminal(30)), "{note}");
        let note = note.replace("\n  ", " ");
        assert!(
            note.contains("left out at 30 columns: peak, p50 ms;"),
            "{note}"
        );
        assert_eq!(dropped_note(&t.render(Width::Full), Width::Full), "");
    }

    #[test]
    fn a_huge_cell_is_cut_and_the_table_stays_whole() {
        let mut t = TextTable::new(vec![Column::text("x"), Column::number("y")]);
        t.push(vec!["d".repeat(70_000), "short".into()]);
        let text = t.render(Width::Full).text;
        let row = text.lines().nth(1).unwrap();
        assert_eq!(row, format!("{}…  short", "d".repeat(MAX_CELL - 1)));
    }

    #[test]
    fn text_wraps_and_numbers_stay_whole() {
        let mut t = TextTable::new(vec![Column::text("detail"), Column::number("n")]);
        t.push(vec![
            "weight 10 → 0 on a member with long connections".into(),
            "123456".into(),
        ]);
        let laid = t.render(Width::Terminal(30));
        assert!(laid.fits, "{}", laid.text);
        assert!(laid.text.lines().count() > 2, "{}", laid.text);
        assert!(laid.text.contains("123456"));
    }

    #[test]
    fn prose_wraps_only_on_a_terminal() {
        let line = "scenario a-rather-long-name (seed 1, 60 s, warmup 0 s), lbsim 0.1.0";
        assert_eq!(prose(line, Width::Full), format!("{line}\n"));
        let wrapped = prose(line, Width::Terminal(40));
        assert!(fits(&wrapped, Width::Terminal(40)), "{wrapped}");
        assert!(wrapped.lines().nth(1).unwrap().starts_with("  "));
    }
}
