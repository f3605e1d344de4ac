//! Server-rendered SVG plots of jobs (`GET /v1/jobs/{id}/plots/{name}.svg`).
//!
//! Two halves: [`sources`] reads a job's spec, result, metric rows and latest checkpoint (plain
//! JSON) and turns them into a [`Figure`] — plain numbers and labels, never invented values;
//! the renderers (`lines`, `scatter`, `heatmap`, `histogram`, `raster`) draw a figure with
//! plotters' SVG backend. Text stays SVG `<text>` with generic font families, so no font files
//! are read and the SVG scales cleanly for print.

pub mod export;
pub mod frame;
mod heatmap;
mod histogram;
mod lines;
mod raster;
mod scatter;
pub mod sources;
pub mod style;
mod view;

pub use sources::{JobData, PlotInfo, catalogue, figure, network_count, uses_network};
pub use view::View;

use style::ColourMap;

/// Canvas size in pixels (SVG user units).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    pub width: u32,
    pub height: u32,
}

impl Size {
    pub const DEFAULT: Size = Size {
        width: 600,
        height: 400,
    };
    /// Smallest and largest accepted side: below 200 px nothing is legible, above 2000 px the
    /// SVG only grows.
    pub const MIN: u32 = 200;
    pub const MAX: u32 = 2000;
}

impl Default for Size {
    fn default() -> Self {
        Size::DEFAULT
    }
}

/// One polyline; NaN y values break it into segments (nothing is drawn across a gap).
#[derive(Debug, Clone, Default)]
pub struct Line {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub dashed: bool,
}

/// A shaded band between `lower` and `upper` per x (e.g. mean ± std).
#[derive(Debug, Clone, Default)]
pub struct Band {
    pub label: String,
    /// (x, lower, upper).
    pub points: Vec<(f64, f64, f64)>,
}

/// One panel of a line figure, sharing the figure's x axis.
#[derive(Debug, Clone, Default)]
pub struct LinePanel {
    pub y_label: String,
    pub lines: Vec<Line>,
    pub band: Option<Band>,
    /// Fixed y range (e.g. 0..1 for accuracies); else fitted to the data.
    pub y_range: Option<(f64, f64)>,
}

/// Curves over steps (generations, epochs), one or more panels stacked vertically.
#[derive(Debug, Clone, Default)]
pub struct LineFigure {
    pub title: String,
    pub subtitle: Option<String>,
    pub x_label: String,
    pub panels: Vec<LinePanel>,
}

/// One point of a scatter plot; `group` is the value that colours it (e.g. the swept std).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub group: Option<f64>,
}

#[derive(Debug, Clone, Default)]
pub struct ScatterFigure {
    pub title: String,
    pub subtitle: Option<String>,
    pub x_label: String,
    pub y_label: String,
    /// Legend entry of the points (when they are not grouped).
    pub points_label: String,
    pub points: Vec<Point>,
    /// What `Point::group` means (legend / colour-bar title), e.g. "std".
    pub group_label: Option<String>,
    /// Reference curves drawn over the points (dashed lines), e.g. a theory curve.
    pub curves: Vec<Line>,
    /// Limits the axes to the points: curves are clipped rather than stretching the view.
    pub fit_to_points: bool,
}

/// A matrix as coloured cells; row 0 at the top. NaN cells are drawn as missing.
#[derive(Debug, Clone)]
pub struct HeatmapFigure {
    pub title: String,
    pub subtitle: Option<String>,
    pub x_label: String,
    pub y_label: String,
    pub bar_label: String,
    pub values: Vec<Vec<f64>>,
    pub map: ColourMap,
    /// Write each cell's value into it (small matrices such as a confusion matrix).
    pub annotate: bool,
}

/// Pre-binned counts: `edges.len() == counts.len() + 1`.
#[derive(Debug, Clone, Default)]
pub struct Bins {
    pub label: String,
    pub edges: Vec<f64>,
    pub counts: Vec<f64>,
}

/// One or more histograms, overlaid translucently or side by side within each bin, with a
/// legend when there are several.
#[derive(Debug, Clone, Default)]
pub struct HistogramFigure {
    pub title: String,
    pub subtitle: Option<String>,
    pub x_label: String,
    pub y_label: String,
    pub groups: Vec<Bins>,
    /// Side-by-side bars per bin (groups on the same bins, e.g. one per sweep value) instead
    /// of overlaid translucent histograms, which hide each other where they agree.
    pub grouped: bool,
}

/// Spikes of one layer: (time step, unit).
#[derive(Debug, Clone, Default)]
pub struct RasterLayer {
    pub label: String,
    pub units: usize,
    pub spikes: Vec<(f64, f64)>,
}

/// A spike raster; layers are stacked on the y axis, one colour each.
#[derive(Debug, Clone, Default)]
pub struct RasterFigure {
    pub title: String,
    pub subtitle: Option<String>,
    pub x_label: String,
    pub y_label: String,
    pub steps: Option<f64>,
    pub layers: Vec<RasterLayer>,
}

/// Everything a plot can be.
#[derive(Debug, Clone)]
pub enum Figure {
    Lines(LineFigure),
    Scatter(ScatterFigure),
    Heatmap(HeatmapFigure),
    Histogram(HistogramFigure),
    Raster(RasterFigure),
    /// Nothing to draw yet: a titled SVG that says why.
    Empty {
        title: String,
        message: String,
    },
}

/// Renders a figure to an SVG document, both axes fitted to the data.
pub fn render(figure: &Figure, size: Size) -> Result<String, String> {
    render_with(figure, size, &View::default())
}

/// True when `view` (log axes, fixed bounds) can apply to `figure`: figures with two numeric
/// axes (lines, scatter plots), and placeholders, which have no axes to change.
pub fn takes_view(figure: &Figure) -> bool {
    matches!(
        figure,
        Figure::Lines(_) | Figure::Scatter(_) | Figure::Empty { .. }
    )
}

/// Renders a figure to an SVG document with log axes and fixed bounds as `view` asks (for
/// the figures where [`takes_view`] holds; others ignore it).
pub fn render_with(figure: &Figure, size: Size, view: &View) -> Result<String, String> {
    render_layout(figure, size, view).map(|(svg, _)| svg)
}

/// [`render_with`], also saying where the charts and the legend landed on the canvas.
pub fn render_layout(
    figure: &Figure,
    size: Size,
    view: &View,
) -> Result<(String, frame::Layout), String> {
    style::to_svg(size, |area, theme| match figure {
        Figure::Lines(f) => lines::draw(area, theme, f, view),
        Figure::Scatter(f) => scatter::draw(area, theme, f, view),
        Figure::Heatmap(f) => heatmap::draw(area, theme, f).map(|()| frame::Layout::default()),
        Figure::Histogram(f) => histogram::draw(area, theme, f),
        Figure::Raster(f) => raster::draw(area, theme, f),
        Figure::Empty { title, message } => {
            style::placeholder(area, theme, title, message).map(|()| frame::Layout::default())
        }
    })
    .map_err(|e| e.to_string())
}

#[cfg(test)]
pub(crate) mod testing {
    //! Checks shared by the renderer tests.

    /// Parses `svg` as XML and checks that it is an `<svg>` document containing every text
    /// of `texts` in its `<text>` elements, all of whose characters the embedded font has
    /// (PNG and PDF use it); returns all text content for further checks.
    pub fn assert_svg(svg: &str, texts: &[&str]) -> String {
        let doc = roxmltree::Document::parse(svg)
            .unwrap_or_else(|e| panic!("not well-formed XML ({e}):\n{svg}"));
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        let all: String = doc
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text())
            .map(|t| format!("{}\n", t.trim()))
            .collect();
        for t in texts {
            assert!(all.contains(t), "missing text {t:?} in:\n{all}");
        }
        let missing = crate::plots::export::missing_glyphs(&all);
        assert!(
            missing.is_empty(),
            "no glyph in the embedded font for {missing:?} in:\n{all}"
        );
        all
    }

    /// Writes `figure` as `<dir>/<name>.svg` (and `.png`) when `PLOTS_PREVIEW_DIR` is set, to
    /// look at the plots the tests build (`PLOTS_PREVIEW_DIR=/tmp/p cargo test --lib plots`).
    pub fn preview(name: &str, figure: &crate::plots::Figure) {
        if let Some(dir) = std::env::var_os("PLOTS_PREVIEW_DIR") {
            let svg = crate::plots::render(figure, crate::plots::Size::DEFAULT).unwrap();
            std::fs::create_dir_all(&dir).unwrap();
            let dir = std::path::Path::new(&dir);
            let png = crate::plots::export::png(&svg, 1.0).unwrap();
            std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
            std::fs::write(dir.join(format!("{name}.svg")), svg).unwrap();
        }
    }

    /// Renders `figure` and checks that it has a legend whose box overlaps none of its data
    /// areas (the legend never covers points, lines, bars or spikes).
    pub fn assert_legend_outside(figure: &crate::plots::Figure, size: crate::plots::Size) {
        let (_, layout) =
            crate::plots::render_layout(figure, size, &crate::plots::View::default()).unwrap();
        let legend = layout.legend.expect("a legend");
        assert!(!layout.plots.is_empty());
        for plot in &layout.plots {
            let overlap =
                legend.0 < plot.2 && plot.0 < legend.2 && legend.1 < plot.3 && plot.1 < legend.3;
            assert!(
                !overlap,
                "legend {legend:?} overlaps the data area {plot:?}"
            );
        }
    }

    /// True when no attribute of the SVG holds NaN or an infinity (a coordinate gone wrong).
    pub fn has_no_nan(svg: &str) -> bool {
        let doc = roxmltree::Document::parse(svg).expect("well-formed");
        doc.descendants().all(|n| {
            n.attributes().all(|a| {
                let v = a.value().to_ascii_lowercase();
                !v.contains("nan") && !v.contains("inf")
            })
        })
    }
}
