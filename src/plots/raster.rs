//! Spike rasters: time step on x, layers stacked bottom-up in bands of equal height, each in its
//! own colour with its units spread over its band (784 input pixels would otherwise squeeze a
//! 32-neuron hidden layer into a sliver).

use plotters::prelude::*;

use super::RasterFigure;
use super::frame::{
    Axes, Entry, Grid, Key, Layout, draw_axes, reserve_legend, single_chart_layout, xy_chart,
};
use super::style::{self, Area, DrawResult, Theme, palette};

/// Most spikes drawn; beyond it the raster says how many were left out.
pub const MAX_SPIKES: usize = 50_000;

pub fn draw(area: &Area, theme: &Theme, fig: &RasterFigure) -> DrawResult<Layout> {
    let total_units: usize = fig.layers.iter().map(|l| l.units).sum();
    let spikes: usize = fig.layers.iter().map(|l| l.spikes.len()).sum();
    if total_units == 0 {
        return style::placeholder(area, theme, &fig.title, "no spiking layers to show")
            .map(|()| Layout::default());
    }
    let max_t = fig
        .layers
        .iter()
        .flat_map(|l| l.spikes.iter().map(|s| s.0))
        .filter(|t| t.is_finite())
        .fold(0.0, f64::max);
    let steps = fig
        .steps
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(max_t + 1.0);
    let mut subtitle = fig.subtitle.clone().unwrap_or_default();
    if spikes > MAX_SPIKES {
        let note = format!("first {MAX_SPIKES} of {spikes} spikes shown");
        subtitle = if subtitle.is_empty() {
            note
        } else {
            format!("{subtitle}; {note}")
        };
    }
    let subtitle = (!subtitle.is_empty()).then_some(subtitle);
    let body = style::title_block(area, theme, &fig.title, subtitle.as_deref())?;
    let bands = fig.layers.len();
    let (x_range, y_range) = (-0.5..(steps - 0.5), 0.0..bands as f64);
    let labels: Vec<String> = fig
        .layers
        .iter()
        .map(|l| format!("{} ({} units)", l.label, l.units))
        .collect();
    let label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
    let (chart_area, legend) = reserve_legend(&body, theme, &label_refs);
    let mut chart = xy_chart(&chart_area, theme, x_range, y_range, theme.x_label_area())?;
    let axes = Axes {
        x: Some(&fig.x_label),
        y: &fig.y_label,
        grid: Grid::None,
        x_ticks: 8,
        y_ticks: bands + 1,
        log_x: false,
        log_y: false,
    };
    draw_axes(&mut chart, theme, axes)?;
    let mut budget = MAX_SPIKES;
    let mut entries = Vec::new();
    for (k, layer) in fig.layers.iter().enumerate() {
        let colour = palette(k);
        let units = layer.units as f64;
        let (base, row) = (k as f64, 1.0 / units.max(1.0));
        let drawn: Vec<(f64, f64)> = layer
            .spikes
            .iter()
            .filter(|(t, u)| t.is_finite() && u.is_finite() && *u >= 0.0 && *u < units)
            .take(budget)
            .copied()
            .collect();
        budget -= drawn.len();
        chart.draw_series(drawn.iter().map(|&(t, u)| {
            Rectangle::new(
                [
                    (t - 0.4, base + (u + 0.05) * row),
                    (t + 0.4, base + (u + 0.95) * row),
                ],
                colour.filled(),
            )
        }))?;
        entries.push(Entry::new(labels[k].clone(), Key::Swatch(colour, 1.0)));
        if k + 1 < bands {
            let top = (k + 1) as f64;
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(-0.5, top), (steps - 0.5, top)],
                BLACK.mix(0.4).stroke_width(1),
            )))?;
        }
    }
    single_chart_layout(&chart, legend, theme, &entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plots::testing::{assert_svg, has_no_nan};
    use crate::plots::{Figure, RasterLayer, Size, render};

    fn figure(layers: Vec<RasterLayer>) -> Figure {
        Figure::Raster(RasterFigure {
            title: "Spike raster".into(),
            subtitle: Some("test sample 3: label 7, predicted 7".into()),
            x_label: "time step".into(),
            y_label: "layer bands (unit 0 at the bottom of each)".into(),
            steps: Some(10.0),
            layers,
        })
    }

    #[test]
    fn layers_are_stacked_and_labelled() {
        let layers = vec![
            RasterLayer {
                label: "layer 0".into(),
                units: 4,
                spikes: vec![(0.0, 1.0), (3.0, 2.0), (f64::NAN, 1.0), (2.0, 9.0)],
            },
            RasterLayer {
                label: "layer 1".into(),
                units: 2,
                spikes: vec![(5.0, 0.0)],
            },
        ];
        let fig = figure(layers);
        crate::plots::testing::assert_legend_outside(&fig, Size::DEFAULT);
        let svg = render(&fig, Size::DEFAULT).unwrap();
        assert_svg(
            &svg,
            &[
                "Spike raster",
                "label 7",
                "time step",
                "layer bands (unit 0 at the bottom of each)",
                "layer 0 (4 units)",
                "layer 1 (2 units)",
            ],
        );
        assert!(has_no_nan(&svg));
    }

    #[test]
    fn no_layers_is_a_placeholder() {
        let svg = render(&figure(vec![]), Size::DEFAULT).unwrap();
        assert_svg(&svg, &["Spike raster", "no spiking layers"]);
    }
}
