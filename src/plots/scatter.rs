//! Scatter figures: points coloured by a group value (distinct hues and a legend for a few
//! values, a colour bar for many, log-spaced when they span more than a decade) with dashed
//! reference curves on top; the legend sits beside or under the plot, never on the points.

use plotters::prelude::*;

use super::frame::{
    Axes, Entry, Grid, Key, Layout, draw_axes, draw_legend, plot_rect, reserve_legend, xy_chart,
};
use super::style::{self, Area, ColourMap, DrawResult, Theme};
use super::view::View;
use super::{Point, ScatterFigure};

/// Up to this many distinct group values get a hue and a legend entry each (one per colour of
/// the categorical palette); more get a colour bar.
pub const MAX_LEGEND_GROUPS: usize = style::PALETTE.len();

/// How group values map to colours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scheme {
    /// A few values: the k-th smallest gets palette colour k (distinct hues, colour-blind safe),
    /// so values close together (std 0.1 and 0.2) are as distinct as far ones.
    Categorical,
    /// Many values: viridis over the values (`log`: over log10 of positive values spanning
    /// more than a decade, so 0.1, 0.2, 0.4 do not crowd into one end), with a colour bar.
    Bar { log: bool },
}

/// The colouring of the distinct, sorted group values `groups`.
pub fn scheme(groups: &[f64]) -> Scheme {
    if groups.len() <= MAX_LEGEND_GROUPS {
        return Scheme::Categorical;
    }
    let (lo, hi) = (groups[0], groups[groups.len() - 1]);
    Scheme::Bar {
        log: lo > 0.0 && hi / lo > 10.0,
    }
}

/// Share of the viridis map the points use (its brightest yellow is unreadable on white).
const VIRIDIS_SHARE: f64 = 0.9;

/// The colour of group value `v` among the distinct, sorted `groups`.
pub fn group_colour(groups: &[f64], v: f64) -> RGBColor {
    match scheme(groups) {
        Scheme::Categorical => {
            let k = groups.iter().position(|&g| g == v).unwrap_or(0);
            style::palette(k)
        }
        Scheme::Bar { log } => {
            let t = |x: f64| if log { x.log10() } else { x };
            let (lo, hi) = (t(groups[0]), t(groups[groups.len() - 1]));
            ColourMap::Viridis.at((t(v) - lo) / (hi - lo) * VIRIDIS_SHARE)
        }
    }
}

pub fn draw(area: &Area, theme: &Theme, fig: &ScatterFigure, view: &View) -> DrawResult<Layout> {
    let fig = &view.scatter(fig);
    let points: Vec<Point> = fig
        .points
        .iter()
        .filter(|p| p.x.is_finite() && p.y.is_finite())
        .copied()
        .collect();
    if points.is_empty() {
        return style::placeholder(area, theme, &fig.title, "no finite data points to plot")
            .map(|()| Layout::default());
    }
    let mut groups: Vec<f64> = points
        .iter()
        .filter_map(|p| p.group)
        .filter(|g| g.is_finite())
        .collect();
    groups.sort_by(f64::total_cmp);
    groups.dedup();
    let scheme = scheme(&groups);
    let bar = !groups.is_empty() && scheme != Scheme::Categorical;
    let name = fig.group_label.as_deref().unwrap_or("group");
    let ungrouped = points.iter().any(|p| p.group.is_none());

    let body = style::title_block(area, theme, &fig.title, fig.subtitle.as_deref())?;
    let (plot_area, bar_area) = if bar {
        let (w, _) = body.dim_in_pixel();
        let (a, b) = body.split_horizontally(w.saturating_sub(style::colour_bar_width(theme)));
        (a, Some(b))
    } else {
        (body, None)
    };
    // Every label the legend may show, so its strip is reserved before the chart is laid out.
    let mut labels: Vec<String> = Vec::new();
    if groups.is_empty() {
        if !fig.points_label.is_empty() {
            labels.push(fig.points_label.clone());
        }
    } else if !bar {
        labels.extend(
            groups
                .iter()
                .map(|&g| format!("{name} = {}", style::tick(g))),
        );
        if ungrouped {
            labels.push(format!("{name} unknown"));
        }
    }
    labels.extend(
        fig.curves
            .iter()
            .filter(|c| !c.label.is_empty())
            .map(|c| c.label.clone()),
    );
    let label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
    let (chart_area, legend) = reserve_legend(&plot_area, theme, &label_refs);

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
        &chart_area,
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

    let colour_of = |g: Option<f64>| -> RGBColor {
        match g {
            Some(v) if v.is_finite() => group_colour(&groups, v),
            _ if groups.is_empty() => style::palette(0),
            _ => style::GREY,
        }
    };
    let r = theme.marker;
    let mut entries: Vec<Entry> = Vec::new();
    if groups.is_empty() || bar {
        chart.draw_series(
            points
                .iter()
                .map(|p| Circle::new((p.x, p.y), r, colour_of(p.group).mix(0.8).filled())),
        )?;
        if groups.is_empty() && !fig.points_label.is_empty() {
            entries.push(Entry::new(
                fig.points_label.as_str(),
                Key::Dot(colour_of(None)),
            ));
        }
    } else {
        for &g in &groups {
            let colour = colour_of(Some(g));
            chart.draw_series(
                points
                    .iter()
                    .filter(|p| p.group == Some(g))
                    .map(|p| Circle::new((p.x, p.y), r, colour.mix(0.8).filled())),
            )?;
            entries.push(Entry::new(
                format!("{name} = {}", style::tick(g)),
                Key::Dot(colour),
            ));
        }
        if ungrouped {
            let colour = style::GREY;
            chart.draw_series(
                points
                    .iter()
                    .filter(|p| p.group.is_none())
                    .map(|p| Circle::new((p.x, p.y), r, colour.mix(0.8).filled())),
            )?;
            entries.push(Entry::new(format!("{name} unknown"), Key::Dot(colour)));
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
        let mut drawn = false;
        for run in runs.into_iter().filter(|r| r.len() > 1) {
            chart.draw_series(DashedLineSeries::new(run, 8, 5, style))?;
            drawn = true;
        }
        if drawn && !curve.label.is_empty() {
            let key = Key::Line {
                colour: BLACK,
                width: theme.stroke,
                dashed: true,
            };
            entries.push(Entry::new(curve.label.as_str(), key));
        }
    }
    let plot = plot_rect(&chart);
    let legend = match legend {
        Some(l) => draw_legend(&l, theme, &entries, plot.1)?,
        None => None,
    };

    if let Some(bar_area) = bar_area {
        let log = scheme == Scheme::Bar { log: true };
        let t = |x: f64| if log { x.log10() } else { x };
        // The bar spans the same share of the map as the points.
        let (first, last) = (t(groups[0]), t(groups[groups.len() - 1]));
        let range = (first, first + (last - first) / VIRIDIS_SHARE);
        style::colour_bar(&bar_area, theme, ColourMap::Viridis, range, name, log)?;
    }
    Ok(Layout {
        plots: vec![plot],
        legend,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plots::frame::Rect;
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

    fn distance(a: RGBColor, b: RGBColor) -> f64 {
        let d = |x: u8, y: u8| (f64::from(x) - f64::from(y)).powi(2);
        (d(a.0, b.0) + d(a.1, b.1) + d(a.2, b.2)).sqrt()
    }

    /// A sweep over std = 0.1 … 3.2 (six values, the first three within a factor of four):
    /// six pairwise distinct colours, at least 60 apart in RGB, one legend entry each.
    #[test]
    fn six_sweep_values_get_six_distinct_colours() {
        let values = [0.1, 0.2, 0.4, 0.8, 1.6, 3.2];
        assert_eq!(scheme(&values), Scheme::Categorical);
        let colours: Vec<RGBColor> = values.iter().map(|&v| group_colour(&values, v)).collect();
        for i in 0..values.len() {
            for j in i + 1..values.len() {
                let d = distance(colours[i], colours[j]);
                assert!(
                    d >= 60.0,
                    "{} and {}: distance {d:.0}",
                    values[i],
                    values[j]
                );
            }
        }
        let points = values
            .iter()
            .enumerate()
            .map(|(k, &v)| p(0.05 * k as f64, 0.3 * k as f64, Some(v)))
            .collect();
        let fig = figure(points);
        crate::plots::testing::preview("scatter_six_values", &fig);
        let svg = render(&fig, Size::DEFAULT).unwrap();
        assert_svg(&svg, &["std = 0.1", "std = 0.2", "std = 0.4", "std = 3.2"]);
    }

    /// Many values over more than a decade get a log-spaced colour bar: equal ratios, equal
    /// steps in colour; a narrow range stays linear.
    #[test]
    fn many_values_over_decades_get_a_log_colour_bar() {
        let values: Vec<f64> = (0..12).map(|k| 0.01 * 2f64.powi(k)).collect();
        assert_eq!(scheme(&values), Scheme::Bar { log: true });
        let (a, b, c) = (
            group_colour(&values, values[0]),
            group_colour(&values, values[1]),
            group_colour(&values, values[2]),
        );
        assert!(distance(a, b) > 10.0 && distance(b, c) > 10.0);
        let narrow: Vec<f64> = (1..=9).map(f64::from).collect();
        assert_eq!(scheme(&narrow), Scheme::Bar { log: false });
        let points = values.iter().map(|&v| p(v, v, Some(v))).collect();
        let fig = figure(points);
        crate::plots::testing::preview("scatter_log_bar", &fig);
        let svg = render(&fig, Size::DEFAULT).unwrap();
        let text = assert_svg(&svg, &["std", "0.1", "1", "10"]);
        assert!(!text.contains("std = "), "no legend entry per value");
    }

    /// The legend's box lies outside the data area (beside or under it), for few groups,
    /// for a long curve label and for a colour bar.
    #[test]
    fn the_legend_is_outside_the_data_area() {
        let overlaps = |a: Rect, b: Rect| a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3;
        let few = figure(vec![p(0.1, 0.2, Some(0.5)), p(0.4, 0.9, Some(1.0))]);
        let Figure::Scatter(mut long) = few.clone() else {
            panic!()
        };
        long.curves[0].label = "weak coupling N²C²/(2 ln 2), the small-weight limit".into();
        let many = figure(
            (0..20)
                .map(|k| p(k as f64 / 40.0, k as f64 / 5.0, Some(k as f64)))
                .collect(),
        );
        for (what, fig) in [("few", few), ("long", Figure::Scatter(long)), ("bar", many)] {
            let (_, layout) =
                crate::plots::render_layout(&fig, Size::DEFAULT, &View::default()).unwrap();
            let legend = layout.legend.expect(what);
            assert_eq!(layout.plots.len(), 1);
            assert!(
                !overlaps(legend, layout.plots[0]),
                "{what}: legend {legend:?} on plot {:?}",
                layout.plots[0]
            );
        }
    }

    #[test]
    fn ungrouped_and_empty() {
        let svg = render(&figure(vec![p(0.1, 0.2, None)]), Size::DEFAULT).unwrap();
        assert_svg(&svg, &["networks"]);
        let svg = render(&figure(vec![]), Size::DEFAULT).unwrap();
        assert_svg(&svg, &["I versus C", "no finite data points"]);
    }
}
