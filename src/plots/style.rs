//! Shared look of every plot: font sizes scaled to the canvas, colour maps, the palette, the
//! title block, axis ranges and the "no data yet" placeholder.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::Size;

/// The drawing area every renderer draws on.
pub type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
/// Rendering errors are boxed: drawing into a string only fails on a plotters bug.
pub type DrawResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// Generic families only: the SVG names them and the viewer picks a font, so no font files are
/// needed on the server.
pub const FONT: &str = "sans-serif";

/// Font sizes and line widths for one canvas size, so 200×150 thumbnails and 2000×1400 prints
/// keep the proportions of the 600×400 default.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub title: f64,
    pub subtitle: f64,
    pub label: f64,
    pub tick: f64,
    pub legend: f64,
    pub stroke: u32,
    pub marker: i32,
}

impl Theme {
    pub fn for_size(size: Size) -> Theme {
        let scale = (f64::from(size.width) / 600.0)
            .min(f64::from(size.height) / 400.0)
            .clamp(0.6, 2.5);
        Theme {
            title: 20.0 * scale,
            subtitle: 14.0 * scale,
            label: 16.0 * scale,
            tick: 13.0 * scale,
            legend: 13.0 * scale,
            stroke: (2.0 * scale).round().max(1.0) as u32,
            marker: (3.5 * scale).round().max(2.0) as i32,
        }
    }

    /// Pixels reserved for the axis descriptions plus tick labels on the left / bottom.
    pub fn y_label_area(&self) -> u32 {
        (self.tick * 4.2 + self.label * 1.6) as u32
    }

    pub fn x_label_area(&self) -> u32 {
        (self.tick * 1.6 + self.label * 1.9) as u32
    }
}

/// Eight colours that stay distinct in print and for common colour-vision deficiencies
/// (Okabe–Ito, without yellow, which is unreadable on white).
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
    RGBColor(0, 0, 0),
];

pub fn palette(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

pub const GREY: RGBColor = RGBColor(120, 120, 120);
pub const MISSING: RGBColor = RGBColor(225, 225, 225);

/// A colour scale: `Diverging` is blue–white–red centred on 0 (for signed weights and
/// correlations), `Sequential` is white to dark blue (counts), `Viridis` orders values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColourMap {
    Diverging,
    Sequential,
    Viridis,
}

const DIVERGING: [(u8, u8, u8); 5] = [
    (33, 102, 172),
    (146, 197, 222),
    (247, 247, 247),
    (244, 165, 130),
    (178, 24, 43),
];
const SEQUENTIAL: [(u8, u8, u8); 4] = [
    (247, 251, 255),
    (158, 202, 225),
    (49, 130, 189),
    (8, 48, 107),
];
const VIRIDIS: [(u8, u8, u8); 5] = [
    (68, 1, 84),
    (59, 82, 139),
    (33, 145, 140),
    (94, 201, 98),
    (253, 231, 37),
];

impl ColourMap {
    /// The colour of `t` in [0, 1] (clamped).
    pub fn at(self, t: f64) -> RGBColor {
        let stops: &[(u8, u8, u8)] = match self {
            ColourMap::Diverging => &DIVERGING,
            ColourMap::Sequential => &SEQUENTIAL,
            ColourMap::Viridis => &VIRIDIS,
        };
        let t = if t.is_finite() {
            t.clamp(0.0, 1.0)
        } else {
            0.5
        };
        let x = t * (stops.len() - 1) as f64;
        let i = (x.floor() as usize).min(stops.len() - 2);
        let f = x - i as f64;
        let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
        let (a, b) = (stops[i], stops[i + 1]);
        RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }

    /// The value range the scale spans for data in `[lo, hi]`: symmetric around 0 for the
    /// diverging map (so white is exactly 0), never empty.
    pub fn domain(self, lo: f64, hi: f64) -> (f64, f64) {
        match self {
            ColourMap::Diverging => {
                let m = lo.abs().max(hi.abs());
                let m = if m > 0.0 && m.is_finite() { m } else { 1.0 };
                (-m, m)
            }
            _ => widen(lo, hi),
        }
    }
}

/// Finite minimum and maximum of `values`, if any.
pub fn extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// Makes `[lo, hi]` a usable axis range: a single value gets a window around it.
pub fn widen(lo: f64, hi: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    if hi > lo {
        return (lo, hi);
    }
    let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
    (lo - pad, hi + pad)
}

/// `[lo, hi]` widened and padded by 5 % on both sides, for scatter and line axes.
pub fn padded(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = widen(lo, hi);
    let pad = (hi - lo) * 0.05;
    (lo - pad, hi + pad)
}

/// Tick label text: few significant digits, scientific for very large or small magnitudes.
pub fn tick(v: f64) -> String {
    let a = v.abs();
    // Axis ticks computed in floating point land a hair off zero (-3.5e-18).
    if a < 1e-12 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.1e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" { "0".into() } else { s.into() }
    }
}

/// A tick on a log axis (at log10 of the value): decades exactly, others to two significant
/// digits (3.2, not 3.162).
pub fn log_tick(v: &f64) -> String {
    let value = 10f64.powf(*v);
    if (v - v.round()).abs() < 1e-9 {
        return tick(10f64.powf(v.round()));
    }
    let unit = 10f64.powf(value.abs().log10().floor() - 1.0);
    tick((value / unit).round() * unit)
}

/// Draws the title (and an optional subtitle line, e.g. "no data yet", a note on what is
/// shown) at the top of `root`; returns the area below.
pub fn title_block<'a>(
    root: &Area<'a>,
    theme: &Theme,
    title: &str,
    subtitle: Option<&str>,
) -> DrawResult<Area<'a>> {
    let (w, _) = root.dim_in_pixel();
    let centre = Pos::new(HPos::Center, VPos::Top);
    let gap = (theme.title * 0.35) as i32;
    let title_style = TextStyle::from((FONT, theme.title).into_font())
        .color(&BLACK)
        .pos(centre);
    root.draw_text(title, &title_style, (w as i32 / 2, gap))?;
    let mut height = gap + (theme.title * 1.15) as i32;
    if let Some(sub) = subtitle {
        let style = TextStyle::from((FONT, theme.subtitle).into_font())
            .color(&GREY)
            .pos(centre);
        root.draw_text(sub, &style, (w as i32 / 2, height))?;
        height += (theme.subtitle * 1.3) as i32;
    }
    Ok(root.split_vertically(height + gap).1)
}

/// A valid, titled SVG that says why there is nothing to show (a queued job, no rows yet).
pub fn placeholder(area: &Area, theme: &Theme, title: &str, message: &str) -> DrawResult {
    let body = title_block(area, theme, title, Some(message))?;
    let (w, h) = body.dim_in_pixel();
    let inset = (theme.tick * 2.0) as i32;
    body.draw(&Rectangle::new(
        [(inset, 0), (w as i32 - inset, h as i32 - inset)],
        ShapeStyle::from(&MISSING).stroke_width(1),
    ))?;
    let style = TextStyle::from((FONT, theme.label).into_font())
        .color(&GREY)
        .pos(Pos::new(HPos::Center, VPos::Center));
    body.draw_text(message, &style, (w as i32 / 2, (h as i32 - inset) / 2))?;
    Ok(())
}

/// Width of the strip that [`colour_bar`] needs: the bar, its tick labels and its description.
pub fn colour_bar_width(theme: &Theme) -> u32 {
    (theme.tick * 8.0 + 24.0) as u32
}

/// A vertical colour bar for `map` over `[lo, hi]`, described by `label`, filling `area`
/// (a strip [`colour_bar_width`] wide beside the plot). With `log`, `lo` and `hi` are log10 of
/// the values and the ticks are labelled in data units.
pub fn colour_bar(
    area: &Area,
    theme: &Theme,
    map: ColourMap,
    (lo, hi): (f64, f64),
    label: &str,
    log: bool,
) -> DrawResult {
    let (w, h) = area.dim_in_pixel();
    let mut chart = ChartBuilder::on(area)
        .margin_top((theme.tick * 0.8) as u32)
        .margin_bottom(theme.x_label_area())
        .margin_left(4)
        .margin_right((theme.tick * 2.2) as u32)
        .set_label_area_size(LabelAreaPosition::Right, (theme.tick * 3.8) as u32)
        .build_cartesian_2d(0.0..1.0, lo..hi)?;
    let steps = 64;
    chart.draw_series((0..steps).map(|k| {
        let a = lo + (hi - lo) * k as f64 / steps as f64;
        // Each strip overlaps the next a little: no hairline gaps from anti-aliasing.
        let b = (lo + (hi - lo) * (k as f64 + 1.6) / steps as f64).min(hi);
        let colour = map.at((k as f64 + 0.5) / steps as f64);
        Rectangle::new([(0.0, a), (1.0, b)], colour.filled())
    }))?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(6)
        .y_label_formatter(&|v| if log { log_tick(v) } else { tick(*v) })
        .label_style((FONT, theme.tick))
        .draw()?;
    // The description runs along the bar, so it never competes with the tick labels.
    let style = TextStyle::from((FONT, theme.tick).into_font())
        .color(&BLACK)
        .transform(FontTransform::Rotate270)
        .pos(Pos::new(HPos::Center, VPos::Top));
    let x = w as i32 - (theme.tick * 1.6) as i32;
    let y = (h as i32 - theme.x_label_area() as i32) / 2;
    area.draw_text(label, &style, (x, y))?;
    Ok(())
}

/// Renders into an SVG string of `size` with `draw` (which gets the whole canvas); also
/// returns what `draw` returned (e.g. where the parts landed).
pub fn to_svg<T>(
    size: Size,
    draw: impl FnOnce(&Area, &Theme) -> DrawResult<T>,
) -> DrawResult<(String, T)> {
    let mut out = String::new();
    let value;
    {
        let root = SVGBackend::with_string(&mut out, (size.width, size.height)).into_drawing_area();
        root.fill(&WHITE)?;
        value = draw(&root, &Theme::for_size(size))?;
        root.present()?;
    }
    Ok((out, value))
}
