//! The frame shared by every x–y chart: margins, axes with their descriptions and ticks, the
//! faint grid, and the legend, which gets its own strip beside or under the chart so it never
//! covers data.

use std::ops::Range;

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{self, Area, DrawResult, FONT, Theme};

/// A chart with both axes in data units, drawn into an SVG string.
pub type XyChart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A chart on `area` spanning `x` × `y`. The right margin is wider than the others so the last
/// x tick label is not cut off; `x_label_area` is the height under the plot for ticks (and the
/// axis description, when there is one).
pub fn xy_chart<'a, 'b>(
    area: &'a Area<'b>,
    theme: &Theme,
    x: Range<f64>,
    y: Range<f64>,
    x_label_area: u32,
) -> DrawResult<XyChart<'a, 'b>> {
    Ok(ChartBuilder::on(area)
        .margin((theme.tick * 0.8) as u32)
        .margin_right((theme.tick * 1.5) as u32)
        .x_label_area_size(x_label_area)
        .y_label_area_size(theme.y_label_area())
        .build_cartesian_2d(x, y)?)
}

/// Which grid lines a chart shows behind its data.
#[derive(Clone, Copy)]
pub enum Grid {
    /// Faint lines at the major ticks of both axes.
    Both,
    /// Only horizontal lines (bars already mark their x positions).
    Horizontal,
    /// No grid (dense marks such as spike rasters).
    None,
}

/// The axes of one chart: descriptions (`x: None` leaves the x axis undescribed, as on the
/// upper panels of a stack sharing the bottom one's) and the number of ticks.
pub struct Axes<'s> {
    pub x: Option<&'s str>,
    pub y: &'s str,
    pub grid: Grid,
    pub x_ticks: usize,
    pub y_ticks: usize,
    /// Log axes: the chart is in log10 coordinates, ticks are labelled in data units.
    pub log_x: bool,
    pub log_y: bool,
}

fn linear_tick(v: &f64) -> String {
    style::tick(*v)
}

/// Draws the axes, ticks (formatted by [`style::tick`]) and grid of `chart`.
pub fn draw_axes(chart: &mut XyChart, theme: &Theme, axes: Axes) -> DrawResult {
    let x_tick: fn(&f64) -> String = if axes.log_x {
        style::log_tick
    } else {
        linear_tick
    };
    let y_tick: fn(&f64) -> String = if axes.log_y {
        style::log_tick
    } else {
        linear_tick
    };
    let mut mesh = chart.configure_mesh();
    mesh.y_desc(axes.y)
        .x_label_formatter(&x_tick)
        .y_label_formatter(&y_tick)
        .label_style((FONT, theme.tick))
        .axis_desc_style((FONT, theme.label))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .x_labels(axes.x_ticks)
        .y_labels(axes.y_ticks);
    if let Some(x) = axes.x {
        mesh.x_desc(x);
    }
    match axes.grid {
        Grid::Both => {}
        Grid::Horizontal => {
            mesh.disable_x_mesh();
        }
        Grid::None => {
            mesh.disable_mesh();
        }
    }
    mesh.draw()?;
    Ok(())
}

/// A pixel position (x, y).
type Pixel = (i32, i32);

/// A pixel rectangle on the canvas: (left, top, right, bottom), right and bottom exclusive.
pub type Rect = (i32, i32, i32, i32);

/// Where a figure's parts landed on the canvas (the tests check that legends stay off the data).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layout {
    /// The data (plotting) area of each chart: inside the axes.
    pub plots: Vec<Rect>,
    /// The legend's box, if the figure has one.
    pub legend: Option<Rect>,
}

/// The canvas rectangle an area covers.
pub fn area_rect(area: &Area) -> Rect {
    let (x, y) = area.get_base_pixel();
    let (w, h) = area.dim_in_pixel();
    (x, y, x + w as i32, y + h as i32)
}

/// The data area of `chart` on the canvas.
pub fn plot_rect(chart: &XyChart) -> Rect {
    let (x, y) = chart.plotting_area().get_pixel_range();
    (x.start, y.start, x.end, y.end)
}

/// The layout of a figure of one chart: its data area and its legend, drawn (when the figure
/// reserved a strip for one) level with the chart's top.
pub fn single_chart_layout(
    chart: &XyChart,
    legend: Option<LegendArea>,
    theme: &Theme,
    entries: &[Entry],
) -> DrawResult<Layout> {
    let plot = plot_rect(chart);
    let legend = match legend {
        Some(l) => draw_legend(&l, theme, entries, plot.1)?,
        None => None,
    };
    Ok(Layout {
        plots: vec![plot],
        legend,
    })
}

/// What a legend entry's key looks like.
#[derive(Debug, Clone, Copy)]
pub enum Key {
    /// A line sample (solid or dashed) of the series' stroke.
    Line {
        colour: RGBColor,
        width: u32,
        dashed: bool,
    },
    /// A marker dot (scatter points, isolated line points).
    Dot(RGBColor),
    /// A filled swatch (bars, bands, spikes) at the series' opacity.
    Swatch(RGBColor, f64),
}

/// One legend line: a key and its text.
#[derive(Debug, Clone)]
pub struct Entry {
    pub label: String,
    pub key: Key,
}

impl Entry {
    pub fn new(label: impl Into<String>, key: Key) -> Entry {
        Entry {
            label: label.into(),
            key,
        }
    }
}

/// Where a legend goes: a column right of the plot, or rows under it when the labels are
/// too long for a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Right,
    Below,
}

/// Widest share of the canvas a legend column may take before the legend moves below.
const MAX_COLUMN_SHARE: f64 = 0.3;

/// Pixels of the key sample before each label.
fn key_width(theme: &Theme) -> i32 {
    (theme.legend * 1.8) as i32
}

/// Text width in pixels, estimated (no font files are read to measure it): 0.6 em per
/// character is a little wider than DejaVu Sans and the common sans-serif fonts, so labels fit.
fn text_width(theme: &Theme, text: &str) -> i32 {
    (text.chars().count() as f64 * theme.legend * 0.6).ceil() as i32
}

fn entry_width(theme: &Theme, label: &str) -> i32 {
    key_width(theme) + (theme.legend * 0.5) as i32 + text_width(theme, label)
}

/// Width of the widest legend entry (key, gap and label).
fn widest_entry(theme: &Theme, labels: &[&str]) -> i32 {
    labels
        .iter()
        .map(|l| entry_width(theme, l))
        .max()
        .unwrap_or(0)
}

fn row_height(theme: &Theme) -> i32 {
    (theme.legend * 1.5) as i32
}

fn padding(theme: &Theme) -> i32 {
    (theme.legend * 0.6) as i32
}

fn side(theme: &Theme, width: u32, labels: &[&str]) -> Side {
    let widest = labels
        .iter()
        .map(|l| entry_width(theme, l))
        .max()
        .unwrap_or(0);
    if f64::from(widest + 3 * padding(theme)) <= f64::from(width) * MAX_COLUMN_SHARE {
        Side::Right
    } else {
        Side::Below
    }
}

/// Rows of entry indices when the legend flows under the plot in `width` pixels.
fn rows(theme: &Theme, width: i32, labels: &[&str]) -> Vec<Vec<usize>> {
    let gap = padding(theme) * 2;
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut used = 0;
    for (k, label) in labels.iter().enumerate() {
        let w = entry_width(theme, label);
        match out.last_mut() {
            Some(row) if used + gap + w <= width - 2 * padding(theme) => {
                row.push(k);
                used += gap + w;
            }
            _ => {
                out.push(vec![k]);
                used = w;
            }
        }
    }
    out
}

/// A legend's reserved strip: where it is and what it will hold.
pub struct LegendArea<'b> {
    area: Area<'b>,
    side: Side,
}

/// Splits `area` into the part for the chart(s) and a strip for a legend of `labels` (the
/// labels the legend may show: reserve for all of them), right of the chart when the labels
/// are short, else under it, so the legend never covers data. No labels: no strip.
pub fn reserve_legend<'b>(
    area: &Area<'b>,
    theme: &Theme,
    labels: &[&str],
) -> (Area<'b>, Option<LegendArea<'b>>) {
    if labels.is_empty() {
        return (area.clone(), None);
    }
    let (w, h) = area.dim_in_pixel();
    match side(theme, w, labels) {
        Side::Right => {
            let widest = widest_entry(theme, labels);
            let strip = (widest + 3 * padding(theme)) as u32;
            let (chart, legend) = area.split_horizontally(w.saturating_sub(strip));
            (
                chart,
                Some(LegendArea {
                    area: legend,
                    side: Side::Right,
                }),
            )
        }
        Side::Below => {
            let n = rows(theme, w as i32, labels).len() as i32;
            let strip = (n * row_height(theme) + 3 * padding(theme)) as u32;
            let (chart, legend) = area.split_vertically(h.saturating_sub(strip));
            (
                chart,
                Some(LegendArea {
                    area: legend,
                    side: Side::Below,
                }),
            )
        }
    }
}

fn draw_key(area: &Area, theme: &Theme, key: Key, (x, y): (i32, i32)) -> DrawResult {
    let w = key_width(theme);
    let half = (theme.legend * 0.35) as i32;
    match key {
        Key::Line {
            colour,
            width,
            dashed,
        } => {
            let style = colour.stroke_width(width);
            if dashed {
                let dash = w / 3;
                for x0 in [x, x + 2 * dash] {
                    area.draw(&PathElement::new(vec![(x0, y), (x0 + dash, y)], style))?;
                }
            } else {
                area.draw(&PathElement::new(vec![(x, y), (x + w, y)], style))?;
            }
        }
        Key::Dot(colour) => {
            area.draw(&Circle::new((x + w / 2, y), half, colour.filled()))?;
        }
        Key::Swatch(colour, alpha) => {
            area.draw(&Rectangle::new(
                [(x, y - half), (x + w, y + half)],
                colour.mix(alpha).filled(),
            ))?;
            area.draw(&Rectangle::new(
                [(x, y - half), (x + w, y + half)],
                colour.stroke_width(1),
            ))?;
        }
    }
    Ok(())
}

/// Draws `entries` in their reserved strip (see [`reserve_legend`]); returns the legend box
/// on the canvas. A column on the right starts at `plot_top` (the canvas row of the plot's top
/// edge) so it lines up with the data.
pub fn draw_legend(
    legend: &LegendArea,
    theme: &Theme,
    entries: &[Entry],
    plot_top: i32,
) -> DrawResult<Option<Rect>> {
    if entries.is_empty() {
        return Ok(None);
    }
    let area = &legend.area;
    let top = plot_top - area.get_base_pixel().1;
    let (w, _) = area.dim_in_pixel();
    let pad = padding(theme);
    let row = row_height(theme);
    let labels: Vec<&str> = entries.iter().map(|e| e.label.as_str()).collect();
    // Each entry's row centre (box coordinates), the box's size and its corner in the strip.
    let (positions, box_w, box_h, origin): (Vec<Pixel>, i32, i32, Pixel) = match legend.side {
        Side::Right => {
            let widest = widest_entry(theme, &labels);
            let pos = (0..entries.len())
                .map(|k| (pad, pad + row / 2 + k as i32 * row))
                .collect();
            let bw = widest + 2 * pad;
            let bh = entries.len() as i32 * row + 2 * pad;
            (pos, bw, bh, (pad, top.max(0)))
        }
        Side::Below => {
            let rows = rows(theme, w as i32, &labels);
            let gap = pad * 2;
            let mut pos = vec![(0, 0); entries.len()];
            let mut widest_row = 0;
            for (r, members) in rows.iter().enumerate() {
                let mut x = pad;
                for &k in members {
                    pos[k] = (x, pad + row / 2 + r as i32 * row);
                    x += entry_width(theme, labels[k]) + gap;
                }
                widest_row = widest_row.max(x - gap + pad);
            }
            let bh = rows.len() as i32 * row + 2 * pad;
            // Centred under the plot.
            let left = ((w as i32 - widest_row) / 2).max(0);
            (pos, widest_row, bh, (left, pad))
        }
    };
    let (ox, oy) = origin;
    area.draw(&Rectangle::new(
        [(ox, oy), (ox + box_w, oy + box_h)],
        ShapeStyle::from(&BLACK.mix(0.3)).stroke_width(1),
    ))?;
    let text = TextStyle::from((FONT, theme.legend).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (entry, &(x, y)) in entries.iter().zip(&positions) {
        draw_key(area, theme, entry.key, (ox + x, oy + y))?;
        let tx = ox + x + key_width(theme) + (theme.legend * 0.5) as i32;
        area.draw_text(&entry.label, &text, (tx, oy + y))?;
    }
    let (bx, by) = area.get_base_pixel();
    Ok(Some((
        bx + ox,
        by + oy,
        bx + ox + box_w + 1,
        by + oy + box_h + 1,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disjoint(a: Rect, b: Rect) -> bool {
        a.2 <= b.0 || b.2 <= a.0 || a.3 <= b.1 || b.3 <= a.1
    }

    /// Short labels go in a column right of the plot, long ones in rows under it; either way
    /// the strip is off the chart's area.
    #[test]
    fn legends_are_reserved_beside_or_below_the_chart() {
        let size = crate::plots::Size::DEFAULT;
        let theme = Theme::for_size(size);
        style::to_svg(size, |root, theme| {
            let (chart, legend) = reserve_legend(root, theme, &["std = 0.1", "std = 3.2"]);
            let legend = legend.unwrap();
            assert_eq!(legend.side, Side::Right);
            assert!(disjoint(area_rect(&chart), area_rect(&legend.area)));
            let long = ["N-rooks closed form N·(1 − h₂(σ(−q)))", "mean"];
            let (chart, legend) = reserve_legend(root, theme, &long);
            let legend = legend.unwrap();
            assert_eq!(legend.side, Side::Below);
            assert!(disjoint(area_rect(&chart), area_rect(&legend.area)));
            let entries: Vec<Entry> = long
                .iter()
                .map(|l| Entry::new(*l, Key::Dot(BLACK)))
                .collect();
            let b = draw_legend(&legend, theme, &entries, 0)?.unwrap();
            assert!(disjoint(area_rect(&chart), b));
            assert!(reserve_legend(root, theme, &[]).1.is_none());
            Ok(())
        })
        .unwrap();
        assert!(text_width(&theme, "abc") > 0);
    }
}
