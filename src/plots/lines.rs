//! Line figures: curves over steps with optional mean ± std bands, one panel per quantity.

use plotters::prelude::*;

use super::frame::{
    Axes, Entry, Grid, Key, Layout, draw_axes, draw_legend, plot_rect, reserve_legend, xy_chart,
};
use super::style::{self, Area, DrawResult, Theme, palette};
use super::view::{View, clip_polyline};
use super::{LineFigure, LinePanel};

pub fn draw(area: &Area, theme: &Theme, fig: &LineFigure, view: &View) -> DrawResult<Layout> {
    let fig = &view.lines(fig);
    let x_extent = style::extent(fig.panels.iter().flat_map(|p| {
        p.lines
            .iter()
            .flat_map(|l| l.points.iter().filter(|p| p.1.is_finite()).map(|p| p.0))
            .chain(p.band.iter().flat_map(|b| b.points.iter().map(|p| p.0)))
    }));
    let Some((x_lo, x_hi)) = x_extent else {
        return style::placeholder(area, theme, &fig.title, "no finite data points to plot")
            .map(|()| Layout::default());
    };
    let (x_lo, x_hi) = view.x_bounds(style::widen(x_lo, x_hi));
    let body = style::title_block(area, theme, &fig.title, fig.subtitle.as_deref())?;
    // One legend for the whole stack, beside or under it: a series shown in several panels
    // (the same label) has one entry.
    let mut labels: Vec<&str> = Vec::new();
    for panel in &fig.panels {
        let band = panel.band.iter().map(|b| b.label.as_str());
        for label in band.chain(panel.lines.iter().map(|l| l.label.as_str())) {
            if !label.is_empty() && !labels.contains(&label) {
                labels.push(label);
            }
        }
    }
    let (charts, legend) = reserve_legend(&body, theme, &labels);
    let panels = charts.split_evenly((fig.panels.len().max(1), 1));
    let last = fig.panels.len().saturating_sub(1);
    let mut entries: Vec<Entry> = Vec::new();
    let mut layout = Layout::default();
    for (i, (panel, part)) in fig.panels.iter().zip(&panels).enumerate() {
        let x_label = (i == last).then_some(fig.x_label.as_str());
        let plot = draw_panel(
            part,
            theme,
            panel,
            (x_lo, x_hi),
            x_label,
            view,
            &mut entries,
        )?;
        layout.plots.push(plot);
    }
    if let Some(legend) = legend {
        let top = layout.plots.first().map_or(0, |p| p.1);
        layout.legend = draw_legend(&legend, theme, &entries, top)?;
    }
    Ok(layout)
}

/// Adds a legend entry unless one with the same label is there already.
fn add_entry(entries: &mut Vec<Entry>, label: &str, key: Key) {
    if !label.is_empty() && !entries.iter().any(|e| e.label == label) {
        entries.push(Entry::new(label, key));
    }
}

/// Most points drawn per line: a ten-million-generation run keeps a small SVG.
pub const MAX_POINTS: usize = 2_000;

/// Every k-th item so that at most [`MAX_POINTS`] remain, always keeping the last one.
fn thin<T: Copy>(items: &[T]) -> Vec<T> {
    if items.len() <= MAX_POINTS {
        return items.to_vec();
    }
    let stride = items.len().div_ceil(MAX_POINTS - 1);
    let mut out: Vec<T> = items.iter().step_by(stride).copied().collect();
    if !(items.len() - 1).is_multiple_of(stride) {
        out.push(items[items.len() - 1]);
    }
    out
}

/// Splits a polyline at non-finite values.
fn segments(points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let mut out = vec![Vec::new()];
    for &(x, y) in points {
        if x.is_finite() && y.is_finite() {
            out.last_mut().expect("never empty").push((x, y));
        } else if !out.last().expect("never empty").is_empty() {
            out.push(Vec::new());
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

fn y_extent(panel: &LinePanel) -> Option<(f64, f64)> {
    if let Some(r) = panel.y_range {
        return Some(r);
    }
    let values = panel
        .lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .chain(
            panel
                .band
                .iter()
                .flat_map(|b| b.points.iter().flat_map(|p| [p.1, p.2])),
        );
    style::extent(values).map(|(lo, hi)| style::padded(lo, hi))
}

fn draw_panel(
    area: &Area,
    theme: &Theme,
    panel: &LinePanel,
    (x_lo, x_hi): (f64, f64),
    x_label: Option<&str>,
    view: &View,
    entries: &mut Vec<Entry>,
) -> DrawResult<super::frame::Rect> {
    let (y_lo, y_hi) = view.y_bounds(y_extent(panel).unwrap_or((0.0, 1.0)));
    // Upper panels of a stack show only tick labels under them.
    let x_label_area = if x_label.is_some() {
        theme.x_label_area()
    } else {
        (theme.tick * 1.6) as u32
    };
    let mut chart = xy_chart(area, theme, x_lo..x_hi, y_lo..y_hi, x_label_area)?;
    let axes = Axes {
        x: x_label,
        y: &panel.y_label,
        grid: Grid::Both,
        x_ticks: 8,
        y_ticks: 5,
        log_x: view.log_x,
        log_y: view.log_y,
    };
    draw_axes(&mut chart, theme, axes)?;

    if let Some(band) = &panel.band {
        let colour = palette(0);
        let finite: Vec<_> = thin(&band.points)
            .iter()
            .filter(|p| p.0.is_finite() && p.1.is_finite() && p.2.is_finite())
            .filter(|p| (x_lo..=x_hi).contains(&p.0))
            .map(|p| (p.0, p.1.clamp(y_lo, y_hi), p.2.clamp(y_lo, y_hi)))
            .collect();
        if !finite.is_empty() {
            let mut outline: Vec<(f64, f64)> = finite.iter().map(|p| (p.0, p.2)).collect();
            outline.extend(finite.iter().rev().map(|p| (p.0, p.1)));
            chart.draw_series(std::iter::once(Polygon::new(
                outline,
                colour.mix(0.2).filled(),
            )))?;
            add_entry(entries, &band.label, Key::Swatch(colour, 0.2));
        }
    }
    for (k, line) in panel.lines.iter().enumerate() {
        let colour = palette(k);
        let stroke = if line.dashed {
            theme.stroke.max(2) - 1
        } else {
            theme.stroke
        };
        let style = colour.stroke_width(stroke);
        // plotters does not clip paths in SVG: cut the line at the edges of the view.
        let parts = segments(&clip_polyline(
            &thin(&line.points),
            (x_lo, x_hi),
            (y_lo, y_hi),
        ));
        let single: Vec<(f64, f64)> = parts
            .iter()
            .filter(|s| s.len() == 1)
            .map(|s| s[0])
            .collect();
        let mut lines = 0;
        for part in parts.iter().filter(|s| s.len() > 1) {
            if line.dashed {
                chart.draw_series(DashedLineSeries::new(
                    part.iter().copied(),
                    theme.marker * 2,
                    theme.marker + 1,
                    style,
                ))?;
            } else {
                chart.draw_series(LineSeries::new(part.iter().copied(), style))?;
            }
            lines += 1;
        }
        // Isolated points (one epoch so far, or between gaps) would be invisible as lines.
        chart.draw_series(
            single
                .iter()
                .map(|&p| Circle::new(p, theme.marker, colour.filled())),
        )?;
        if lines > 0 {
            let key = Key::Line {
                colour,
                width: stroke,
                dashed: line.dashed,
            };
            add_entry(entries, &line.label, key);
        } else if !single.is_empty() {
            add_entry(entries, &line.label, Key::Dot(colour));
        }
    }
    Ok(plot_rect(&chart))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plots::testing::{assert_svg, has_no_nan};
    use crate::plots::{Band, Figure, Line, Size, render};

    fn figure(panels: Vec<LinePanel>) -> Figure {
        Figure::Lines(LineFigure {
            title: "Fitness per generation".into(),
            subtitle: None,
            x_label: "generation".into(),
            panels,
        })
    }

    #[test]
    fn lines_with_band_and_gaps_render() {
        let panel = LinePanel {
            y_label: "I (bits)".into(),
            lines: vec![
                Line {
                    label: "best".into(),
                    points: vec![(0.0, 1.0), (1.0, f64::NAN), (2.0, 2.0), (3.0, 2.5)],
                    dashed: false,
                },
                Line {
                    label: "mean".into(),
                    points: vec![(0.0, 0.5), (1.0, 0.7), (2.0, 1.0), (3.0, 1.2)],
                    dashed: true,
                },
            ],
            band: Some(Band {
                label: "mean ± std".into(),
                points: vec![(0.0, 0.2, 0.8), (1.0, f64::NAN, 1.0), (2.0, 0.5, 1.5)],
            }),
            y_range: None,
        };
        let second = LinePanel {
            y_label: "C".into(),
            lines: vec![Line {
                label: "best".into(),
                points: vec![(0.0, 0.1)],
                dashed: false,
            }],
            ..LinePanel::default()
        };
        let fig = figure(vec![panel, second]);
        crate::plots::testing::assert_legend_outside(&fig, Size::DEFAULT);
        let svg = render(&fig, Size::DEFAULT).unwrap();
        assert_svg(
            &svg,
            &[
                "Fitness per generation",
                "generation",
                "I (bits)",
                "C",
                "best",
                "mean ± std",
            ],
        );
        assert!(has_no_nan(&svg));
    }

    #[test]
    fn long_series_are_thinned() {
        let items: Vec<usize> = (0..10_001).collect();
        let t = thin(&items);
        assert!(t.len() <= MAX_POINTS);
        assert_eq!((t[0], *t.last().unwrap()), (0, 10_000));
        assert_eq!(thin(&items[..5]), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn no_points_is_a_titled_placeholder() {
        let panel = LinePanel {
            y_label: "loss".into(),
            lines: vec![Line {
                label: "train".into(),
                points: vec![(0.0, f64::NAN)],
                dashed: false,
            }],
            ..LinePanel::default()
        };
        let svg = render(&figure(vec![panel]), Size::DEFAULT).unwrap();
        assert_svg(&svg, &["Fitness per generation", "no finite data points"]);
        let svg = render(
            &figure(vec![]),
            Size {
                width: 200,
                height: 200,
            },
        )
        .unwrap();
        assert_svg(&svg, &["Fitness per generation"]);
    }
}
