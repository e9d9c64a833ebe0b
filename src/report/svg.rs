//! Hand-written SVG charts for the HTML reports: no JavaScript, no network, and the same bytes
//! for the same data (coordinates are printed with one decimal, colours come from a fixed
//! palette). Two kinds: an x/y chart (lines, markers, CI bars, a reference line, event markers,
//! linear, logarithmic or categorical x) and a heatmap.

use std::fmt::Write as _;

const W: f64 = 900.0;
const H: f64 = 380.0;
const LEFT: f64 = 78.0;
const RIGHT: f64 = W - 210.0;
const TOP: f64 = 46.0;
const BOTTOM: f64 = H - 58.0;

/// A chart's canvas and plot area (px).
#[derive(Clone, Copy)]
struct Frame {
    w: f64,
    h: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

impl Frame {
    /// A full-width chart with its legend on the right.
    const FULL: Frame = Frame {
        w: W,
        h: H,
        left: LEFT,
        right: RIGHT,
        top: TOP,
        bottom: BOTTOM,
    };
    /// One panel of a small-multiples grid (three to a row): no legend, the title names it.
    const PANEL: Frame = Frame {
        w: 300.0,
        h: 200.0,
        left: 52.0,
        right: 290.0,
        top: 46.0,
        bottom: 150.0,
    };
}

/// Stroke patterns that go with the palette's colours, so that lines of equal values, drawn
/// over each other, still show each series through the gaps of the ones above it; with ten
/// colours and four patterns, the first twenty series differ in both.
const DASHES: [&str; 4] = ["", "9 3", "3 3", "9 3 3 3"];

/// A series' stroke pattern (an SVG attribute, or nothing for a solid line).
fn dash_attr(i: usize, dashed: bool) -> String {
    match (dashed, DASHES[i % DASHES.len()]) {
        (true, _) => r#" stroke-dasharray="6 3""#.into(),
        (false, "") => String::new(),
        (false, d) => format!(r#" stroke-dasharray="{d}""#),
    }
}

/// Legend text wider than this many characters wraps onto further lines.
const LEGEND_CHARS: usize = 24;

/// Tableau 10: distinguishable, and readable on white.
const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

/// A colour of the palette by series number.
pub fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// Escapes text for SVG and HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[derive(Clone, Debug, Default)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    /// Half-width of an error bar (a 95 % CI).
    pub err: Option<f64>,
    /// Drawn hollow (a point that breaks a constraint).
    pub hollow: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Series {
    pub name: String,
    pub points: Vec<Point>,
    /// Join the points with a line.
    pub line: bool,
    /// Draw a dot at each point.
    pub dots: bool,
    /// Dashed whatever its number (a reference-like series); others get their number's
    /// pattern ([`DASHES`]).
    pub dashed: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum XScale {
    #[default]
    Linear,
    /// Base 10; an x at or below 0 is not drawn.
    Log,
}

/// An x/y chart. Titles and axis labels are required by construction: the report's readers
/// have only the picture.
#[derive(Clone, Debug, Default)]
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    pub x_scale: XScale,
    /// Category names: x values are their indices.
    pub x_categories: Option<Vec<String>>,
    /// Start the y axis at zero.
    pub y_zero: bool,
    /// Fixed y range (e.g. 0..1 for a CDF).
    pub y_range: Option<(f64, f64)>,
    /// A horizontal reference line and its legend text.
    pub reference: Option<(f64, String)>,
    /// Vertical markers at these x values, labelled with the given short text.
    pub markers: Vec<(f64, String)>,
    /// A heading above the legend's series (what the series names are values of).
    pub legend_title: Option<String>,
    /// Extra legend lines (explanations rather than series).
    pub notes: Vec<String>,
    /// Drawn as one small panel of a grid ([`Frame::PANEL`]): no legend.
    pub panel: bool,
}

/// Round tick steps of 1, 2 or 5 × 10^k, about `n` of them over `[lo, hi]`, at least
/// `min_step` apart (1 for integer data: no tick at 1.5 members).
fn ticks(lo: f64, hi: f64, n: usize, min_step: f64) -> (Vec<f64>, usize) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (Vec::new(), 0);
    }
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    let raw = (span / n as f64).max(min_step);
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let decimals = (-step.log10().floor()).clamp(0.0, 6.0) as usize;
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    // a degenerate range (a step rounded to 0, values near f64's limits) gets no ticks
    if !(step > 0.0 && step.is_finite()) || last.saturating_sub(first) > 4 * n as i64 {
        return (Vec::new(), decimals);
    }
    ((first..=last).map(|k| k as f64 * step).collect(), decimals)
}

/// A number as a tick or cell label: `decimals` places, no `-0`.
pub fn num(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    if s.trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        s.trim_start_matches('-').to_string()
    } else {
        s
    }
}

/// Three significant digits, for values of any size.
pub fn sig3(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return num(x, 0);
    }
    let d = (2 - x.abs().log10().floor() as i32).clamp(0, 9) as usize;
    num(x, d)
}

fn header(o: &mut String, title: &str, height: f64) {
    header_sized(
        o,
        title,
        Frame {
            h: height,
            ..Frame::FULL
        },
        15.0,
    );
}

/// The canvas and its title: one line on a full chart; on a panel, whose title is a member's
/// name, up to two lines of the name in full (a longer one is cut with "…", its tooltip whole).
fn header_sized(o: &mut String, title: &str, f: Frame, title_size: f64) {
    let (w, h) = (f.w, f.h);
    let _ = write!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" font-family="Helvetica, Arial, sans-serif" font-size="12" role="img"><title>{}</title><rect width="{w}" height="{h}" fill="white"/>"#,
        esc(title)
    );
    let panel = title_size < 15.0;
    let lines = if panel {
        let mut lines = wrap(title, 40);
        if lines.len() > 2 {
            let rest: String = title.chars().skip(lines[0].chars().count()).collect();
            lines[1] = truncate(rest.trim_start(), 40);
            lines.truncate(2);
        }
        lines
    } else {
        vec![title.to_string()]
    };
    let x = if panel { 8.0 } else { f.left };
    let first = f.top - 22.0 - 14.0 * (lines.len() as f64 - 1.0);
    for (k, line) in lines.iter().enumerate() {
        let _ = write!(
            o,
            r#"<text x="{x}" y="{:.1}" font-size="{title_size}" font-weight="bold">{}</text>"#,
            first + 14.0 * k as f64,
            esc(line)
        );
    }
}

impl Chart {
    pub fn to_svg(&self) -> String {
        let f = if self.panel {
            Frame::PANEL
        } else {
            Frame::FULL
        };
        let (fl, fr, ft, fb) = (f.left, f.right, f.top, f.bottom);
        let all = || self.series.iter().flat_map(|s| s.points.iter());
        let (mut x0, mut x1) = match &self.x_categories {
            Some(c) => (-0.5, c.len() as f64 - 0.5),
            None => all().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
                (a.min(p.x), b.max(p.x))
            }),
        };
        for (x, _) in &self.markers {
            x0 = x0.min(*x);
            x1 = x1.max(*x);
        }
        let log = self.x_scale == XScale::Log;
        if log {
            // a log axis shows positive values only; with none, one decade
            let xs = all()
                .map(|p| p.x)
                .chain(self.markers.iter().map(|(x, _)| *x));
            let positive = xs.filter(|x| *x > 0.0 && x.is_finite());
            x0 = positive.fold(f64::INFINITY, f64::min);
            if !x0.is_finite() {
                (x0, x1) = (1.0, 10.0);
            }
            if x1 <= x0 || !x1.is_finite() {
                x1 = x0 * 10.0;
            }
        }
        if !x0.is_finite() {
            (x0, x1) = (0.0, 1.0);
        }
        if x1 <= x0 {
            (x0, x1) = (x0 - 1.0, x1 + 1.0);
        }
        let fx = |x: f64| {
            let (a, b, v) = if log {
                (x0.log10(), x1.log10(), x.log10())
            } else {
                (x0, x1, x)
            };
            f.left + (v - a) / (b - a) * (f.right - f.left)
        };
        let (y0, y1) = self.y_range.unwrap_or_else(|| {
            let (mut lo, mut hi) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
                let e = p.err.unwrap_or(0.0);
                (a.min(p.y - e), b.max(p.y + e))
            });
            if let Some((y, _)) = &self.reference {
                lo = lo.min(*y);
                hi = hi.max(*y);
            }
            if !lo.is_finite() {
                return (0.0, 1.0);
            }
            if self.y_zero {
                lo = lo.min(0.0);
            }
            let pad = if hi > lo {
                0.06 * (hi - lo)
            } else {
                hi.abs().max(1.0) * 0.1
            };
            (
                if self.y_zero && lo >= 0.0 {
                    0.0
                } else {
                    lo - pad
                },
                hi + pad,
            )
        });
        let fy = |y: f64| f.bottom - (y - y0) / (y1 - y0) * (f.bottom - f.top);
        let legend = if self.panel {
            Vec::new()
        } else {
            self.legend_lines(&fy)
        };
        // a long legend makes the canvas taller, never the plot narrower
        let legend_bottom = ft + 6.0 + 16.0 * legend.len() as f64 + 10.0;
        let mut o = String::new();
        let title_size = if self.panel { 12.0 } else { 15.0 };
        let frame = Frame {
            h: f.h.max(legend_bottom),
            ..f
        };
        header_sized(&mut o, &self.title, frame, title_size);
        // grid and y ticks
        let (yt, yd) = ticks(y0, y1, 6, 0.0);
        for t in yt {
            let y = fy(t);
            let _ = write!(
                o,
                r##"<line x1="{fl}" y1="{y:.1}" x2="{fr}" y2="{y:.1}" stroke="#e5e5e5"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
                f.left - 6.0,
                y + 4.0,
                num(t, yd)
            );
        }
        // x ticks
        let xt: Vec<(f64, String)> = match (&self.x_categories, log) {
            (Some(c), _) => c
                .iter()
                .enumerate()
                .map(|(i, s)| (i as f64, s.clone()))
                .collect(),
            (None, true) => {
                let mut v = Vec::new();
                let mut p = 10f64.powf(x0.log10().floor());
                // 2 and 5 only while they fit between the powers of ten
                let mantissas: &[f64] = if x1 / x0 > 1e3 {
                    &[1.0]
                } else {
                    &[1.0, 2.0, 5.0]
                };
                // a subnormal x0 gives a first power of 0, which would never grow
                while p > 0.0 && p <= x1 * 1.000_001 {
                    for &m in mantissas {
                        let t = p * m;
                        if t >= x0 * 0.999_999 && t <= x1 * 1.000_001 {
                            let d = (-t.log10().floor()).clamp(0.0, 6.0) as usize;
                            v.push((t, num(t, d)));
                        }
                    }
                    p *= 10.0;
                }
                v
            }
            (None, false) => {
                let integers = all().all(|p| p.x.fract() == 0.0);
                let (t, d) = ticks(x0, x1, 8, if integers { 1.0 } else { 0.0 });
                t.into_iter().map(|t| (t, num(t, d))).collect()
            }
        };
        for (t, label) in &xt {
            let x = fx(*t);
            let _ = write!(
                o,
                r##"<line x1="{x:.1}" y1="{ft}" x2="{x:.1}" y2="{fb}" stroke="#f0f0f0"/><line x1="{x:.1}" y1="{fb}" x2="{x:.1}" y2="{:.1}" stroke="#333"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
                f.bottom + 5.0,
                f.bottom + 18.0,
                esc(label)
            );
        }
        // axes and labels
        let _ = write!(
            o,
            r##"<line x1="{fl}" y1="{fb}" x2="{fr}" y2="{fb}" stroke="#333"/><line x1="{fl}" y1="{ft}" x2="{fl}" y2="{fb}" stroke="#333"/><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="13">{}</text><text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle" font-size="13">{}</text>"##,
            (f.left + f.right) / 2.0,
            f.h - 16.0,
            esc(&self.x_label),
            (f.top + f.bottom) / 2.0,
            esc(&self.y_label)
        );
        // markers closer than 14 px share one label ("4,5"), so labels never overprint
        let mut labels: Vec<(f64, String)> = Vec::new();
        for (x, label) in &self.markers {
            let x = fx(*x);
            if !x.is_finite() {
                continue;
            }
            let _ = write!(
                o,
                r##"<line x1="{x:.1}" y1="{ft}" x2="{x:.1}" y2="{fb}" stroke="#555" stroke-dasharray="3 3"/>"##
            );
            match labels.last_mut() {
                Some((at, text)) if x - *at < 14.0 => {
                    text.push(',');
                    text.push_str(label);
                }
                _ => labels.push((x, label.clone())),
            }
        }
        for (x, label) in labels {
            let _ = write!(
                o,
                r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle" font-size="11" font-weight="bold">{}</text>"#,
                f.top - 4.0,
                esc(&label)
            );
        }
        if let Some((y, _)) = &self.reference {
            let y = fy(*y);
            let _ = write!(
                o,
                r##"<line x1="{fl}" y1="{y:.1}" x2="{fr}" y2="{y:.1}" stroke="#222" stroke-width="1.5" stroke-dasharray="8 4"/>"##
            );
        }
        for (i, s) in self.series.iter().enumerate() {
            let c = colour(i);
            let dash = dash_attr(i, s.dashed);
            // what the axes cannot show (x ≤ 0 on a log axis, non-finite values) is left out
            let shown = |p: &&Point| fx(p.x).is_finite() && fy(p.y).is_finite();
            if s.line && s.points.len() > 1 {
                // a point left out breaks the line: a gap in the data stays a gap
                for run in s.points.split(|p| !shown(&p)) {
                    match run {
                        [] => {}
                        [p] if !s.dots => {
                            let _ = write!(
                                o,
                                r#"<circle cx="{:.1}" cy="{:.1}" r="2" fill="{c}"/>"#,
                                fx(p.x),
                                fy(p.y)
                            );
                        }
                        [_] => {}
                        run => {
                            let pts: Vec<String> = run
                                .iter()
                                .map(|p| format!("{:.1},{:.1}", fx(p.x), fy(p.y)))
                                .collect();
                            let _ = write!(
                                o,
                                r#"<polyline fill="none" stroke="{c}" stroke-width="2"{dash} points="{}"/>"#,
                                pts.join(" ")
                            );
                        }
                    }
                }
            }
            for p in s.points.iter().filter(shown) {
                let (x, y) = (fx(p.x), fy(p.y));
                if let Some(e) = p.err.filter(|e| *e > 0.0 && e.is_finite()) {
                    let (a, b) = (fy(p.y - e), fy(p.y + e));
                    let _ = write!(
                        o,
                        r#"<path d="M{x:.1} {a:.1}V{b:.1}M{:.1} {a:.1}h8M{:.1} {b:.1}h8" stroke="{c}" stroke-width="1.5"/>"#,
                        x - 4.0,
                        x - 4.0
                    );
                }
                if s.dots {
                    let fill = if p.hollow { "white" } else { c };
                    let _ = write!(
                        o,
                        r#"<circle cx="{x:.1}" cy="{y:.1}" r="4" fill="{fill}" stroke="{c}" stroke-width="2"/>"#
                    );
                }
            }
        }
        // legend: one entry per series, the reference and the notes, names wrapped in full
        let lx = fr + 16.0;
        for (k, line) in legend.iter().enumerate() {
            let ly = ft + 6.0 + 16.0 * k as f64;
            match line {
                Legend::Title(t) => {
                    let _ = write!(
                        o,
                        r#"<text x="{lx}" y="{:.1}" font-weight="bold">{}</text>"#,
                        ly + 4.0,
                        esc(t)
                    );
                }
                Legend::Key { swatch, text } => {
                    if let Some((c, dash)) = swatch {
                        let _ = write!(
                            o,
                            r#"<line x1="{lx}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{c}" stroke-width="3"{dash}/>"#,
                            lx + 22.0
                        );
                    }
                    let _ = write!(
                        o,
                        r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
                        lx + 28.0,
                        ly + 4.0,
                        esc(text)
                    );
                }
                Legend::Note(n) => {
                    let _ = write!(
                        o,
                        r##"<text x="{lx}" y="{:.1}" fill="#555" font-size="11">{}</text>"##,
                        ly + 4.0,
                        esc(n)
                    );
                }
            }
        }
        o.push_str("</svg>");
        o
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

/// One line of a chart's legend.
enum Legend {
    Title(String),
    /// A key's line and its text; continuation lines of a wrapped name have no swatch.
    Key {
        swatch: Option<(&'static str, String)>,
        text: String,
    },
    Note(String),
}

impl Chart {
    /// `fy` maps a value to its pixel row, to tell which series the eye cannot tell apart.
    fn legend_lines(&self, fy: &dyn Fn(f64) -> f64) -> Vec<Legend> {
        let mut lines = Vec::new();
        if let Some(t) = &self.legend_title {
            lines.extend(wrap(t, LEGEND_CHARS + 4).into_iter().map(Legend::Title));
        }
        let keys = self
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| ((colour(i), dash_attr(i, s.dashed)), &s.name))
            .chain(
                self.reference
                    .iter()
                    .map(|(_, text)| (("#222", r#" stroke-dasharray="8 4""#.to_string()), text)),
            );
        for (swatch, name) in keys {
            for (k, text) in wrap(name, LEGEND_CHARS).into_iter().enumerate() {
                let swatch = (k == 0).then(|| swatch.clone());
                lines.push(Legend::Key { swatch, text });
            }
        }
        for n in self.notes.iter().chain(&self.coinciding(fy)) {
            lines.extend(wrap(n, LEGEND_CHARS + 4).into_iter().map(Legend::Note));
        }
        lines
    }

    /// Notes naming the series drawn over each other (on average less than 2 px apart, with
    /// their gaps in the same places): only the last of them is seen whole.
    fn coinciding(&self, fy: &dyn Fn(f64) -> f64) -> Vec<String> {
        let close = |a: &Series, b: &Series| {
            let mut apart = 0.0;
            for (p, q) in a.points.iter().zip(&b.points) {
                match (p.y.is_nan(), q.y.is_nan()) {
                    _ if p.x != q.x => return false,
                    (true, true) => {}
                    (false, false) => apart += (fy(p.y) - fy(q.y)).abs(),
                    _ => return false,
                }
            }
            a.points.len() == b.points.len() && apart < 2.0 * a.points.len() as f64
        };
        let mut groups: Vec<Vec<&Series>> = Vec::new();
        for s in self.series.iter().filter(|s| !s.points.is_empty()) {
            match groups.iter_mut().find(|g| close(g[0], s)) {
                Some(g) => g.push(s),
                None => groups.push(vec![s]),
            }
        }
        groups
            .into_iter()
            .filter(|g| g.len() > 1)
            .map(|g| {
                let names: Vec<&str> = g.iter().map(|s| s.name.as_str()).collect();
                format!("drawn over each other: {}", names.join(", "))
            })
            .collect()
    }
}

/// Splits `s` into lines of at most `n` characters, after a separator (space, `-`, `_`, `.`,
/// `/`, `:`) where one falls in the second half of a line, else at `n`: nothing is cut off.
fn wrap(s: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut lines = Vec::new();
    let mut start = 0;
    while chars.len() - start > n {
        let window = &chars[start..start + n];
        let cut = window
            .iter()
            .rposition(|c| matches!(c, ' ' | '-' | '_' | '.' | '/' | ':'))
            .filter(|&i| i >= n / 2)
            .map_or(n, |i| i + 1);
        lines.push(
            window[..cut]
                .iter()
                .collect::<String>()
                .trim_end()
                .to_string(),
        );
        start += cut;
    }
    lines.push(chars[start..].iter().collect());
    lines
}

/// A colour on a light-yellow → dark-blue ramp for t in [0, 1].
fn ramp(t: f64) -> String {
    const STOPS: [(f64, f64, f64); 5] = [
        (255.0, 255.0, 204.0),
        (161.0, 218.0, 180.0),
        (65.0, 182.0, 196.0),
        (44.0, 127.0, 184.0),
        (37.0, 52.0, 148.0),
    ];
    let t = t.clamp(0.0, 1.0) * 4.0;
    let i = (t.floor() as usize).min(3);
    let f = t - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |x: f64, y: f64| (x + (y - x) * f).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(a.0, b.0),
        mix(a.1, b.1),
        mix(a.2, b.2)
    )
}

/// Colour bands of a heatmap: values are coloured by how many whole `step`s they lie from the
/// best value (the lowest, or the highest when `from_high`), so values less than a step apart
/// (within noise, for a noise-sized step) share a colour or differ by one shade. At most
/// [`MAX_BANDS`]: a wider range widens the step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bands {
    pub step: f64,
    pub from_high: bool,
}

/// Most colour bands a heatmap draws (the legend lists each).
pub const MAX_BANDS: usize = 10;

impl Bands {
    /// The step used over `[lo, hi]`: never finer than asked, coarser when more than
    /// [`MAX_BANDS`] would be needed.
    fn step_over(&self, lo: f64, hi: f64) -> f64 {
        self.step.max((hi - lo) / (MAX_BANDS - 1) as f64)
    }

    /// The band of `v` (0 holds the best value).
    fn band(&self, step: f64, lo: f64, hi: f64, v: f64) -> usize {
        let from = if self.from_high { hi - v } else { v - lo };
        (from / step + 1e-9).floor() as usize
    }
}

/// A heatmap of `cells[y][x]` (None: no data). `marked` cells are outlined (the recommended
/// point), `tied` cells outlined dashed; `crossed` cells break a constraint.
pub struct Heatmap<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub value_label: &'a str,
    pub x_names: Vec<String>,
    pub y_names: Vec<String>,
    pub cells: Vec<Vec<Option<f64>>>,
    pub marked: Option<(usize, usize)>,
    pub tied: Vec<(usize, usize)>,
    pub crossed: Vec<(usize, usize)>,
    /// `None`: a continuous scale from the lowest to the highest value.
    pub bands: Option<Bands>,
    /// What the band width is, for the legend (e.g. "median 95 % CI half-width").
    pub band_note: &'a str,
}

impl Heatmap<'_> {
    pub fn to_svg(&self) -> String {
        let nx = self.x_names.len().max(1) as f64;
        let ny = self.y_names.len().max(1) as f64;
        let left = 150.0;
        let (cw, ch) = ((RIGHT - left) / nx, (28.0f64).max(200.0 / ny).min(60.0));
        let height = TOP + ch * ny + 70.0;
        let bottom = TOP + ch * ny;
        let vals = self.cells.iter().flatten().flatten();
        let (lo, hi) = vals.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
        let bands = self.bands.map(|b| (b, b.step_over(lo, hi)));
        let count = bands.map_or(0, |(b, step)| {
            b.band(step, lo, hi, if b.from_high { lo } else { hi }) + 1
        });
        // position on the ramp: light for low values, dark for high ones
        let t = |v: f64| match bands {
            Some((b, step)) if count > 1 => {
                let k = b.band(step, lo, hi, v) as f64 / (count - 1) as f64;
                if b.from_high {
                    1.0 - k
                } else {
                    k
                }
            }
            Some(_) => 0.5,
            None if hi > lo => (v - lo) / (hi - lo),
            None => 0.5,
        };
        let mut o = String::new();
        header(&mut o, self.title, height);
        for (yi, row) in self.cells.iter().enumerate() {
            for (xi, cell) in row.iter().enumerate() {
                let (x, y) = (left + xi as f64 * cw, TOP + yi as f64 * ch);
                let Some(v) = cell else { continue };
                let tv = t(*v);
                let ink = if tv > 0.55 { "white" } else { "#111" };
                let cross = if self.crossed.contains(&(xi, yi)) {
                    " ✗"
                } else {
                    ""
                };
                let _ = write!(
                    o,
                    r#"<rect x="{x:.1}" y="{y:.1}" width="{cw:.1}" height="{ch:.1}" fill="{}" stroke="white"/><text x="{:.1}" y="{:.1}" text-anchor="middle" fill="{ink}">{}{cross}</text>"#,
                    ramp(tv),
                    x + cw / 2.0,
                    y + ch / 2.0 + 4.0,
                    sig3(*v)
                );
            }
        }
        for (xi, yi) in self.tied.iter().filter(|c| Some(**c) != self.marked) {
            let _ = write!(
                o,
                r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="#d62728" stroke-width="2" stroke-dasharray="5 3"/>"##,
                left + *xi as f64 * cw + 2.0,
                TOP + *yi as f64 * ch + 2.0,
                cw - 4.0,
                ch - 4.0
            );
        }
        if let Some((xi, yi)) = self.marked {
            let _ = write!(
                o,
                r##"<rect x="{:.1}" y="{:.1}" width="{cw:.1}" height="{ch:.1}" fill="none" stroke="#d62728" stroke-width="3"/>"##,
                left + xi as f64 * cw,
                TOP + yi as f64 * ch
            );
        }
        for (xi, name) in self.x_names.iter().enumerate() {
            let _ = write!(
                o,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                left + (xi as f64 + 0.5) * cw,
                bottom + 16.0,
                esc(&truncate(name, 18))
            );
        }
        for (yi, name) in self.y_names.iter().enumerate() {
            let _ = write!(
                o,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                left - 6.0,
                TOP + (yi as f64 + 0.5) * ch + 4.0,
                esc(&truncate(name, 22))
            );
        }
        let _ = write!(
            o,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="13">{}</text><text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle" font-size="13">{}</text>"#,
            (left + RIGHT) / 2.0,
            bottom + 40.0,
            esc(self.x_label),
            (TOP + bottom) / 2.0,
            esc(self.y_label)
        );
        // colour scale: one swatch per band, or a continuous ramp
        let lx = RIGHT + 20.0;
        let _ = write!(
            o,
            r#"<text x="{lx}" y="{:.1}">{}</text>"#,
            TOP + 4.0,
            esc(self.value_label)
        );
        let swatches: Vec<(f64, String)> = match bands {
            Some((b, step)) => (0..count)
                .map(|k| {
                    let (near, far) = (k as f64 * step, (k + 1) as f64 * step);
                    let (a, z) = if b.from_high {
                        (hi - far, hi - near)
                    } else {
                        (lo + near, lo + far)
                    };
                    let mid = if b.from_high { hi - near } else { lo + near };
                    (t(mid), format!("{}–{}", sig3(a.max(lo)), sig3(z.min(hi))))
                })
                .collect(),
            None => (0..10)
                .map(|k| {
                    let label = match k {
                        0 => format!("{} (low)", sig3(lo)),
                        9 => format!("{} (high)", sig3(hi)),
                        _ => String::new(),
                    };
                    (k as f64 / 9.0, label)
                })
                .collect(),
        };
        let mut ly = TOP + 14.0;
        for (t, label) in &swatches {
            let _ = write!(
                o,
                r#"<rect x="{lx}" y="{ly:.1}" width="18" height="14" fill="{}"/>"#,
                ramp(*t)
            );
            if !label.is_empty() {
                let _ = write!(
                    o,
                    r#"<text x="{:.1}" y="{:.1}" font-size="11">{}</text>"#,
                    lx + 24.0,
                    ly + 11.0,
                    esc(label)
                );
            }
            ly += 14.0;
        }
        let mut notes = vec![
            "red outline: recommended".to_string(),
            "dashed: tied with it".into(),
            "✗: breaks a constraint".into(),
        ];
        if let Some((_, step)) = bands {
            notes.push(format!("bands {} wide:", sig3(step)));
            notes.push(self.band_note.to_string());
        }
        for n in notes {
            ly += 16.0;
            let _ = write!(
                o,
                r##"<text x="{lx}" y="{ly:.1}" font-size="11" fill="#555">{}</text>"##,
                esc(&n)
            );
        }
        o.push_str("</svg>");
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(ticks(0.0, 10.0, 5, 0.0).0, [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(ticks(1.0, 4.0, 8, 1.0).0, [1.0, 2.0, 3.0, 4.0]);
        let (t, d) = ticks(0.13, 0.58, 5, 0.0);
        assert_eq!(d, 1);
        let labels: Vec<String> = t.iter().map(|&x| num(x, d)).collect();
        assert_eq!(labels, ["0.2", "0.3", "0.4", "0.5"]);
        assert_eq!(num(-0.0001, 2), "0.00");
        assert_eq!(sig3(1234.6), "1235");
        assert_eq!(sig3(0.012345), "0.0123");
    }

    /// A log axis over no data, or over zero and negative values, looped without end (its
    /// first power of ten was 0); degenerate ranges must render, with nothing undrawable.
    #[test]
    fn degenerate_data_renders() {
        let point = |x: f64, y: f64| Point {
            x,
            y,
            ..Point::default()
        };
        let series = |points: Vec<Point>| Series {
            name: "s".into(),
            points,
            line: true,
            dots: true,
            dashed: false,
        };
        let cases = [
            (XScale::Log, vec![]),
            (XScale::Log, vec![point(0.0, 0.5), point(-1.0, 1.0)]),
            (XScale::Log, vec![point(0.0, 0.5), point(3.0, 1.0)]),
            (XScale::Log, vec![point(5e-324, 0.5), point(1.0, 1.0)]),
            (
                XScale::Linear,
                vec![point(f64::MAX, 1.0), point(-f64::MAX, 0.0)],
            ),
            (
                XScale::Linear,
                vec![point(1e-320, 1e-320), point(2e-320, 2e-320)],
            ),
            (XScale::Linear, vec![point(f64::NAN, f64::INFINITY)]),
        ];
        for (x_scale, points) in cases {
            let mut points = points;
            if let Some(p) = points.first_mut() {
                p.err = Some(f64::INFINITY);
            }
            let svg = Chart {
                title: "t".into(),
                series: vec![series(points.clone())],
                x_scale,
                markers: vec![(0.0, "m".into()), (-1.0, "n".into())],
                ..Chart::default()
            }
            .to_svg();
            assert!(svg.ends_with("</svg>"), "{points:?}");
            for bad in ["NaN", "inf"] {
                assert!(!svg.contains(bad), "{bad} in the chart of {points:?}");
            }
        }
    }

    /// The fill of each cell of a one-row heatmap, in order.
    fn cell_fills(values: &[f64], bands: Option<Bands>) -> Vec<String> {
        let svg = Heatmap {
            title: "t",
            x_label: "x",
            y_label: "y",
            value_label: "v",
            x_names: values.iter().map(|v| v.to_string()).collect(),
            y_names: vec!["row".into()],
            cells: vec![values.iter().map(|v| Some(*v)).collect()],
            marked: None,
            tied: Vec::new(),
            crossed: Vec::new(),
            bands,
            band_note: "",
        }
        .to_svg();
        svg.split(r#"stroke="white"/>"#)
            .filter_map(|part| part.rsplit_once(r#"fill=""#))
            .map(|(_, fill)| fill[..7].to_string())
            .take(values.len())
            .collect()
    }

    #[test]
    fn differences_within_a_band_look_alike() {
        let values = [10.0, 10.2, 10.4, 11.0, 14.0];
        let banded = cell_fills(
            &values,
            Some(Bands {
                step: 0.5,
                from_high: false,
            }),
        );
        assert_eq!(banded[0], banded[1], "{banded:?}");
        assert_eq!(banded[1], banded[2], "{banded:?}");
        assert_ne!(banded[2], banded[3], "a step apart");
        assert_ne!(banded[3], banded[4]);
        // counted from the high end when high is best: 14.0 alone in its band
        let high = cell_fills(
            &[13.6, 13.9, 14.0],
            Some(Bands {
                step: 0.3,
                from_high: true,
            }),
        );
        assert_eq!(high[1], high[2], "{high:?}");
        assert_ne!(high[0], high[1], "{high:?}");
        // a continuous scale tells 10.0 from 10.2
        let plain = cell_fills(&values, None);
        assert_ne!(plain[0], plain[1], "{plain:?}");
    }

    #[test]
    fn a_gap_in_a_line_stays_a_gap() {
        let ys = [1.0, 2.0, f64::NAN, 3.0, f64::NAN, 4.0, 5.0];
        let svg = Chart {
            title: "t".into(),
            series: vec![Series {
                name: "s".into(),
                points: ys
                    .iter()
                    .enumerate()
                    .map(|(i, &y)| Point {
                        x: i as f64,
                        y,
                        ..Point::default()
                    })
                    .collect(),
                line: true,
                ..Series::default()
            }],
            ..Chart::default()
        }
        .to_svg();
        assert_eq!(svg.matches("<polyline").count(), 2, "{svg}");
        assert_eq!(
            svg.matches(r#"r="2""#).count(),
            1,
            "the lone point is drawn"
        );
    }

    fn flat(name: &str, y: f64) -> Series {
        Series {
            name: name.into(),
            points: (0..10)
                .map(|i| Point {
                    x: f64::from(i),
                    y,
                    ..Point::default()
                })
                .collect(),
            line: true,
            ..Series::default()
        }
    }

    /// Legend names were cut at 26 characters ("checkout-service-prod-az1…" four times) and
    /// ran off the right edge: every character is kept, on lines that fit beside the plot.
    #[test]
    fn legend_names_wrap_in_full_inside_the_canvas() {
        let names: Vec<String> = (1..=4)
            .map(|i| format!("checkout-service-prod-az1-node-{i}-{}", "x".repeat(30)))
            .collect();
        let chart = Chart {
            title: "t".into(),
            series: names
                .iter()
                .enumerate()
                .map(|(i, n)| flat(n, i as f64))
                .collect(),
            ..Chart::default()
        };
        let lines = chart.legend_lines(&|y| y);
        let texts: Vec<&str> = lines
            .iter()
            .filter_map(|l| match l {
                Legend::Key { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(texts.concat(), names.concat(), "nothing is cut off");
        assert!(texts.iter().all(|t| t.chars().count() <= LEGEND_CHARS));
        // one swatch per series, on its first line
        let swatches = lines
            .iter()
            .filter(|l| {
                matches!(
                    l,
                    Legend::Key {
                        swatch: Some(_),
                        ..
                    }
                )
            })
            .count();
        assert_eq!(swatches, 4);
        // the canvas grows to hold a legend longer than the plot
        let many = Chart {
            title: "t".into(),
            series: (0..40)
                .map(|i| flat(&format!("member-{i}"), f64::from(i)))
                .collect(),
            ..Chart::default()
        }
        .to_svg();
        let height: f64 = many
            .split("height=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(height > H, "{height}");
    }

    #[test]
    fn series_differ_in_colour_or_pattern_and_overlaps_are_named() {
        let styles: Vec<(&str, String)> =
            (0..20).map(|i| (colour(i), dash_attr(i, false))).collect();
        for (i, a) in styles.iter().enumerate() {
            assert!(
                !styles[i + 1..].contains(a),
                "series {i} looks like a later one"
            );
        }
        let chart = Chart {
            title: "t".into(),
            series: vec![
                flat("primary", 5.0),
                flat("standby", 5.0),
                flat("other", 50.0),
            ],
            ..Chart::default()
        };
        let svg = chart.to_svg();
        assert!(svg.contains(">drawn over each other:</text>"), "{svg}");
        assert!(
            svg.contains(">primary, standby</text>"),
            "only equal lines are named: {svg}"
        );
    }

    #[test]
    fn a_panel_has_no_legend_and_keeps_a_long_title() {
        let name = "checkout-service-prod-az1-node-17-with-a-very-long-suffix";
        let svg = Chart {
            title: name.into(),
            series: vec![flat("served", 1.0), flat("errors", 0.0)],
            panel: true,
            ..Chart::default()
        }
        .to_svg();
        assert!(svg.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 200""#));
        assert!(!svg.contains(">served<"), "no legend on a panel");
        assert!(svg.contains(&format!("<title>{name}</title>")));
        assert!(
            svg.contains(">checkout-service-prod-az1-node-17-with-<")
                || svg.contains(">checkout-service-prod-az1-node-17-<"),
            "{svg}"
        );
    }
}
