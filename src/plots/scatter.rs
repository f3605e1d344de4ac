//! Scatter figures: points coloured by a group value (a legend for a few values, a colour bar
//! for many) with dashed reference curves on top.

use plotters::prelude::*;

use super::frame::{Axes, Grid, draw_axes, draw_legend, xy_chart};
use super::style::{self, Area, ColourMap, DrawResult, Theme};
use super::view::View;
use super::{Point, ScatterFigure};

/// Up to this many distinct group values get a legend entry each; more get a colour bar.
const MAX_LEGEND_GROUPS: usize = 8;

pub fn draw(area: &Area, theme: &Theme, fig: &ScatterFigure, view: &View) -> DrawResult {
    let fig = &view.scatter(fig);
    let points: Vec<Point> = fig
        .points
        .iter()
        .filter(|p| p.x.is_finite() && p.y.is_finite())
        .copied()
        .collect();
    if points.is_empty() {
        return style::placeholder(area, theme, &fig.title, "no finite data points to plot");
    }
    let mut groups: Vec<f64> = points
        .iter()
        .filter_map(|p| p.group)
        .filter(|g| g.is_finite())
        .collect();
    groups.sort_by(f64::total_cmp);
    groups.dedup();
    let bar = groups.len() > MAX_LEGEND_GROUPS;

    let body = style::title_block(area, theme, &fig.title, fig.subtitle.as_deref())?;
    let (plot_area, bar_area) = if bar {
        let (w, _) = body.dim_in_pixel();
        let (a, b) = body.split_horizontally(w.saturating_sub(style::colour_bar_width(theme)));
        (a, Some(b))
    } else {
        (body, None)
    };

    let curve_points = fig
        .curves
        .iter()
        .flat_map(|c| c.points.iter().copied())
        .filter(|_| !fig.fit_to_points);
    let (x_lo, x_hi) = style::extent(
        points
            .iter()
            .map(|p| p.x)
            .chain(curve_points.clone().map(|p| p.0)),
    )
    .map(|(a, b)| style::padded(a, b))
    .unwrap_or((0.0, 1.0));
    let (y_lo, y_hi) = style::extent(points.iter().map(|p| p.y).chain(curve_points.map(|p| p.1)))
        .map(|(a, b)| style::padded(a, b))
        .unwrap_or((0.0, 1.0));
    let (x_lo, x_hi) = view.x_bounds((x_lo, x_hi));
    let (y_lo, y_hi) = view.y_bounds((y_lo, y_hi));
    // plotters does not clip in SVG: points outside fixed bounds are left out.
    let points: Vec<Point> = points
        .into_iter()
        .filter(|p| (x_lo..=x_hi).contains(&p.x) && (y_lo..=y_hi).contains(&p.y))
        .collect();

    let mut chart = xy_chart(
        &plot_area,
        theme,
        x_lo..x_hi,
        y_lo..y_hi,
        theme.x_label_area(),
    )?;
    let axes = Axes {
        x: Some(&fig.x_label),
        y: &fig.y_label,
        grid: Grid::Both,
        x_ticks: 7,
        y_ticks: 6,
        log_x: view.log_x,
        log_y: view.log_y,
    };
    draw_axes(&mut chart, theme, axes)?;

    // Colours follow the order of the group values (viridis), so a sweep reads as a gradient.
    let colour_of = |g: Option<f64>| -> RGBColor {
        match (g, groups.len()) {
            (Some(v), n) if v.is_finite() && n > 1 => {
                let (lo, hi) = (groups[0], groups[n - 1]);
                ColourMap::Viridis.at((v - lo) / (hi - lo) * 0.9)
            }
            (Some(v), _) if v.is_finite() => ColourMap::Viridis.at(0.0),
            _ => style::palette(0),
        }
    };
    let r = theme.marker;
    if groups.is_empty() || bar {
        let anno = chart.draw_series(
            points
                .iter()
                .map(|p| Circle::new((p.x, p.y), r, colour_of(p.group).mix(0.8).filled())),
        )?;
        if !fig.points_label.is_empty() {
            let colour = colour_of(None);
            anno.label(fig.points_label.as_str())
                .legend(move |(x, y)| Circle::new((x + 10, y), r, colour.filled()));
        }
    } else {
        let name = fig.group_label.as_deref().unwrap_or("group");
        for &g in &groups {
            let colour = colour_of(Some(g));
            chart
                .draw_series(
                    points
                        .iter()
                        .filter(|p| p.group == Some(g))
                        .map(|p| Circle::new((p.x, p.y), r, colour.mix(0.8).filled())),
                )?
                .label(format!("{name} = {}", style::tick(g)))
                .legend(move |(x, y)| Circle::new((x + 10, y), r, colour.filled()));
        }
        let ungrouped: Vec<&Point> = points.iter().filter(|p| p.group.is_none()).collect();
        if !ungrouped.is_empty() {
            let colour = style::GREY;
            chart
                .draw_series(
                    ungrouped
                        .iter()
                        .map(|p| Circle::new((p.x, p.y), r, colour.mix(0.8).filled())),
                )?
                .label(format!("{name} unknown"))
                .legend(move |(x, y)| Circle::new((x + 10, y), r, colour.filled()));
        }
    }

    for curve in &fig.curves {
        let style = BLACK.stroke_width(theme.stroke);
        // Keep only what lies inside the view: plotters does not clip paths in SVG.
        let inside = |&(x, y): &(f64, f64)| {
            x.is_finite()
                && y.is_finite()
                && (x_lo..=x_hi).contains(&x)
                && (y_lo..=y_hi).contains(&y)
        };
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for p in &curve.points {
            if inside(p) {
                runs.last_mut().expect("never empty").push(*p);
            } else if !runs.last().expect("never empty").is_empty() {
                runs.push(Vec::new());
            }
        }
        let mut labelled = false;
        for run in runs.into_iter().filter(|r| r.len() > 1) {
            let anno = chart.draw_series(DashedLineSeries::new(run, 8, 5, style))?;
            if !labelled && !curve.label.is_empty() {
                anno.label(curve.label.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
                labelled = true;
            }
        }
    }
    let corner = style::quiet_corner(
        points.iter().map(|p| (p.x, p.y)),
        (x_lo, x_hi),
        (y_lo, y_hi),
    );
    draw_legend(&mut chart, theme, corner)?;

    if let Some(bar_area) = bar_area {
        // Points use 90 % of the map (the brightest yellow is unreadable on white).
        let (first, last) = (groups[0], groups[groups.len() - 1]);
        let range = (first, first + (last - first) / 0.9);
        let label = fig.group_label.as_deref().unwrap_or("group");
        style::colour_bar(&bar_area, theme, ColourMap::Viridis, range, label)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plots::testing::{assert_svg, has_no_nan};
    use crate::plots::{Figure, Line, Size, render};

    fn figure(points: Vec<Point>) -> Figure {
        Figure::Scatter(ScatterFigure {
            title: "I versus C".into(),
            subtitle: Some("N = 4".into()),
            x_label: "C (RMS correlation)".into(),
            y_label: "I (bits)".into(),
            points_label: "networks".into(),
            points,
            group_label: Some("std".into()),
            curves: vec![Line {
                label: "weak coupling".into(),
                points: (0..50)
                    .map(|k| (k as f64 / 100.0, 10.0 * (k as f64 / 100.0).powi(2)))
                    .collect(),
                dashed: true,
            }],
            fit_to_points: true,
        })
    }

    fn p(x: f64, y: f64, group: Option<f64>) -> Point {
        Point { x, y, group }
    }

    #[test]
    fn few_groups_get_a_legend() {
        let svg = render(
            &figure(vec![
                p(0.1, 0.2, Some(0.5)),
                p(0.2, 0.5, Some(1.0)),
                p(f64::NAN, 0.5, Some(1.0)),
                p(0.3, 0.9, None),
            ]),
            Size::DEFAULT,
        )
        .unwrap();
        assert_svg(
            &svg,
            &[
                "I versus C",
                "N = 4",
                "C (RMS correlation)",
                "I (bits)",
                "std = 0.5",
                "std = 1",
                "weak coupling",
            ],
        );
        assert!(has_no_nan(&svg));
    }

    #[test]
    fn many_groups_get_a_colour_bar() {
        let points = (0..20)
            .map(|k| p(k as f64 / 40.0, k as f64 / 5.0, Some(k as f64)))
            .collect();
        let svg = render(
            &figure(points),
            Size {
                width: 900,
                height: 600,
            },
        )
        .unwrap();
        let text = assert_svg(&svg, &["I versus C", "std"]);
        assert!(!text.contains("std = "), "no legend entry per value");
    }

    #[test]
    fn ungrouped_and_empty() {
        let svg = render(&figure(vec![p(0.1, 0.2, None)]), Size::DEFAULT).unwrap();
        assert_svg(&svg, &["networks"]);
        let svg = render(&figure(vec![]), Size::DEFAULT).unwrap();
        assert_svg(&svg, &["I versus C", "no finite data points"]);
    }
}
