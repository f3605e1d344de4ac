//! The frame shared by every x–y chart: margins, axes with their descriptions and ticks, the
//! faint grid, and the legend box.

use std::ops::Range;

use plotters::chart::SeriesLabelPosition;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

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

/// A tick on a log axis (at log10 of the value): decades exactly, others to two significant
/// digits (3.2, not 3.162).
fn log_tick(v: &f64) -> String {
    let value = 10f64.powf(*v);
    if (v - v.round()).abs() < 1e-9 {
        return style::tick(10f64.powf(v.round()));
    }
    let unit = 10f64.powf(value.abs().log10().floor() - 1.0);
    style::tick((value / unit).round() * unit)
}

/// Draws the axes, ticks (formatted by [`style::tick`]) and grid of `chart`.
pub fn draw_axes(chart: &mut XyChart, theme: &Theme, axes: Axes) -> DrawResult {
    let x_tick: fn(&f64) -> String = if axes.log_x { log_tick } else { linear_tick };
    let y_tick: fn(&f64) -> String = if axes.log_y { log_tick } else { linear_tick };
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

/// Draws the legend of the labelled series in `corner` (see [`style::quiet_corner`]).
pub fn draw_legend<'a, 'b: 'a>(
    chart: &mut XyChart<'a, 'b>,
    theme: &Theme,
    corner: SeriesLabelPosition,
) -> DrawResult {
    chart
        .configure_series_labels()
        .position(corner)
        .label_font((FONT, theme.legend))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    Ok(())
}
