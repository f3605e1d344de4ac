//! Histograms from pre-binned counts; several groups (e.g. layers) are overlaid translucently.

use plotters::prelude::*;

use super::frame::{
    Axes, Entry, Grid, Key, Layout, draw_axes, reserve_legend, single_chart_layout, xy_chart,
};
use super::style::{self, Area, DrawResult, Theme, palette};
use super::{Bins, HistogramFigure};

/// One drawable bin: (left edge, right edge, count).
type Bar = (f64, f64, f64);

/// The bins of a group that can be drawn: finite edges in increasing order and finite counts.
fn usable(bins: &Bins) -> Vec<Bar> {
    bins.edges
        .windows(2)
        .zip(&bins.counts)
        .map(|(e, &c)| (e[0], e[1], c))
        .filter(|&(a, b, c)| a.is_finite() && b.is_finite() && b > a && c.is_finite() && c >= 0.0)
        .collect()
}

/// Integer-valued samples (e.g. attractor periods) in groups on the same bins, spanning all
/// groups' values: one bin per value for small ranges, else about 30 equal bins with integer
/// edges.
pub fn integer_bins_shared(groups: &[(String, Vec<u64>)]) -> Vec<Bins> {
    let all = || groups.iter().flat_map(|(_, v)| v.iter().copied());
    let (Some(lo), Some(hi)) = (all().min(), all().max()) else {
        return groups
            .iter()
            .map(|(label, _)| Bins {
                label: label.clone(),
                ..Bins::default()
            })
            .collect();
    };
    let width = (hi - lo + 1).div_ceil(30).max(1);
    let count = (hi - lo) / width + 1;
    let edges: Vec<f64> = (0..=count).map(|k| (lo + k * width) as f64 - 0.5).collect();
    groups
        .iter()
        .map(|(label, values)| {
            let mut counts = vec![0.0; count as usize];
            for v in values {
                counts[((v - lo) / width) as usize] += 1.0;
            }
            Bins {
                label: label.clone(),
                edges: edges.clone(),
                counts,
            }
        })
        .collect()
}

pub fn draw(area: &Area, theme: &Theme, fig: &HistogramFigure) -> DrawResult<Layout> {
    let groups: Vec<(&Bins, Vec<Bar>)> = fig
        .groups
        .iter()
        .map(|g| (g, usable(g)))
        .filter(|(_, b)| !b.is_empty())
        .collect();
    if groups.is_empty() {
        return style::placeholder(area, theme, &fig.title, "no values to count")
            .map(|()| Layout::default());
    }
    let all = || groups.iter().flat_map(|(_, b)| b.iter());
    let (x_lo, x_hi) = style::extent(all().flat_map(|b| [b.0, b.1])).unwrap_or((0.0, 1.0));
    let (x_lo, x_hi) = style::widen(x_lo, x_hi);
    let pad = (x_hi - x_lo) * 0.02;
    let y_hi = all().map(|b| b.2).fold(0.0, f64::max);
    let y_hi = if y_hi > 0.0 { y_hi * 1.08 } else { 1.0 };

    let body = style::title_block(area, theme, &fig.title, fig.subtitle.as_deref())?;
    let several = groups.len() > 1;
    let labels: Vec<&str> = if several {
        groups.iter().map(|(g, _)| g.label.as_str()).collect()
    } else {
        Vec::new()
    };
    let (chart_area, legend) = reserve_legend(&body, theme, &labels);
    let x_range = (x_lo - pad)..(x_hi + pad);
    let mut chart = xy_chart(&chart_area, theme, x_range, 0.0..y_hi, theme.x_label_area())?;
    let axes = Axes {
        x: Some(&fig.x_label),
        y: &fig.y_label,
        grid: Grid::Horizontal,
        x_ticks: 8,
        y_ticks: 6,
        log_x: false,
        log_y: false,
    };
    draw_axes(&mut chart, theme, axes)?;
    let side_by_side = several && fig.grouped;
    let alpha = if several && !side_by_side { 0.45 } else { 0.8 };
    let mut entries = Vec::new();
    for (k, (group, bins)) in groups.iter().enumerate() {
        let colour = palette(k);
        // Side by side: group k gets the k-th of equal slots in the middle 80 % of each bin.
        let slot = |(a, b, c): Bar| -> Bar {
            if !side_by_side {
                return (a, b, c);
            }
            let share = 0.8 / groups.len() as f64;
            let left = a + (b - a) * (0.1 + share * k as f64);
            (left, left + (b - a) * share, c)
        };
        let bins: Vec<Bar> = bins.iter().map(|&bar| slot(bar)).collect();
        chart
            .draw_series(bins.iter().map(|&(a, b, c)| {
                Rectangle::new([(a, 0.0), (b, c)], colour.mix(alpha).filled())
            }))?;
        entries.push(Entry::new(group.label.as_str(), Key::Swatch(colour, alpha)));
        // Outlines keep overlapping groups and neighbouring bars apart in print.
        chart.draw_series(
            bins.iter()
                .map(|&(a, b, c)| Rectangle::new([(a, 0.0), (b, c)], colour.stroke_width(1))),
        )?;
    }
    single_chart_layout(&chart, legend, theme, &entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plots::testing::{assert_svg, has_no_nan};
    use crate::plots::{Figure, Size, render};

    fn figure(groups: Vec<Bins>) -> Figure {
        Figure::Histogram(HistogramFigure {
            title: "Learned leaks".into(),
            subtitle: None,
            x_label: "leak λ".into(),
            y_label: "neurons".into(),
            groups,
            grouped: false,
        })
    }

    #[test]
    fn overlaid_groups_have_a_legend_and_skip_bad_bins() {
        let a = Bins {
            label: "layer 0".into(),
            edges: vec![0.0, 0.1, 0.2, f64::NAN],
            counts: vec![3.0, 5.0, 2.0],
        };
        let b = Bins {
            label: "layer 1".into(),
            edges: vec![0.0, 0.05, 0.1],
            counts: vec![f64::NAN, 4.0],
        };
        let fig = figure(vec![a, b]);
        crate::plots::testing::assert_legend_outside(&fig, Size::DEFAULT);
        let svg = render(&fig, Size::DEFAULT).unwrap();
        assert_svg(
            &svg,
            &["Learned leaks", "leak λ", "neurons", "layer 0", "layer 1"],
        );
        assert!(has_no_nan(&svg));
    }

    fn integer_bins(label: &str, values: &[u64]) -> Bins {
        integer_bins_shared(&[(label.to_string(), values.to_vec())])
            .pop()
            .unwrap()
    }

    #[test]
    fn integer_bins_cover_every_value() {
        let bins = integer_bins("periods", &[1, 2, 2, 4]);
        assert_eq!(bins.counts, vec![1.0, 2.0, 0.0, 1.0]);
        assert_eq!(bins.edges, vec![0.5, 1.5, 2.5, 3.5, 4.5]);
        let wide = integer_bins("periods", &[1, 1000]);
        assert!(wide.counts.len() <= 31);
        assert_eq!(wide.counts.iter().sum::<f64>(), 2.0);
        assert!(integer_bins("none", &[]).counts.is_empty());
        let shared = integer_bins_shared(&[("a".into(), vec![1, 2]), ("b".into(), vec![4])]);
        assert_eq!(shared[0].edges, shared[1].edges);
        assert_eq!(shared[0].counts, vec![1.0, 1.0, 0.0, 0.0]);
        assert_eq!(shared[1].counts, vec![0.0, 0.0, 0.0, 1.0]);
    }

    /// Side-by-side groups keep the legend outside and draw each group's bars in its own slot.
    #[test]
    fn grouped_bars_render_with_the_legend_outside() {
        let groups = integer_bins_shared(&[
            ("std = 0.5".into(), vec![1, 1, 2]),
            ("std = 1".into(), vec![1, 2, 2]),
        ]);
        let Figure::Histogram(mut fig) = figure(groups) else {
            panic!()
        };
        fig.grouped = true;
        let fig = Figure::Histogram(fig);
        crate::plots::testing::assert_legend_outside(&fig, Size::DEFAULT);
        let svg = render(&fig, Size::DEFAULT).unwrap();
        assert_svg(&svg, &["std = 0.5", "std = 1"]);
        assert!(has_no_nan(&svg));
    }

    #[test]
    fn empty_is_a_placeholder() {
        let svg = render(&figure(vec![]), Size::DEFAULT).unwrap();
        assert_svg(&svg, &["Learned leaks", "no values"]);
    }
}
