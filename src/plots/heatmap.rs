//! Heat maps of matrices (weights, correlations, confusion counts) with a colour bar; row 0 is
//! at the top as in a printed matrix.

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::HeatmapFigure;
use super::style::{self, Area, DrawResult, FONT, Theme};

/// Largest number of cells drawn per side; bigger matrices are shown as block means so the
/// SVG stays below a megabyte.
pub const MAX_CELLS: usize = 100;

/// A matrix reduced to at most `MAX_CELLS` per side: (values, rows and columns per block).
fn reduce(values: &[Vec<f64>]) -> (Vec<Vec<f64>>, usize) {
    let rows = values.len();
    let cols = values.iter().map(Vec::len).max().unwrap_or(0);
    let block = rows.max(cols).div_ceil(MAX_CELLS).max(1);
    if block == 1 {
        return (values.to_vec(), 1);
    }
    let out = (0..rows.div_ceil(block))
        .map(|bi| {
            (0..cols.div_ceil(block))
                .map(|bj| {
                    let cells: Vec<f64> = (bi * block..((bi + 1) * block).min(rows))
                        .flat_map(|i| {
                            (bj * block..((bj + 1) * block).min(cols))
                                .filter_map(move |j| values[i].get(j).copied())
                        })
                        .filter(|v| v.is_finite())
                        .collect();
                    if cells.is_empty() {
                        f64::NAN
                    } else {
                        cells.iter().sum::<f64>() / cells.len() as f64
                    }
                })
                .collect()
        })
        .collect();
    (out, block)
}

/// Up to about ten integer tick positions over `0..n`, at cell centres.
fn index_ticks(n: usize) -> Vec<f64> {
    let step = n.div_ceil(10).max(1);
    let step = match step {
        1 | 2 | 5 => step,
        3 | 4 => 5,
        s => s.div_ceil(5) * 5,
    };
    (0..n).step_by(step).map(|i| i as f64 + 0.5).collect()
}

/// A `0..n` axis with ticks at chosen cell centres. (plotters' `with_key_points` on an f64 range
/// loses the label formatter, so this small axis type stands in for it.)
#[derive(Debug, Clone)]
struct CellAxis {
    n: f64,
    ticks: Vec<f64>,
}

impl Ranged for CellAxis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let t = value / self.n;
        limit.0 + (f64::from(limit.1 - limit.0) * t).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() || hint.max_num_points() == 0 {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        0.0..self.n
    }
}

impl ValueFormatter<f64> for CellAxis {
    fn format(value: &f64) -> String {
        format!("{}", value.floor())
    }
}

fn cell_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e6 {
        format!("{v:.0}")
    } else {
        style::tick(v)
    }
}

pub fn draw(area: &Area, theme: &Theme, fig: &HeatmapFigure) -> DrawResult {
    let Some((lo, hi)) = style::extent(fig.values.iter().flatten().copied()) else {
        return style::placeholder(area, theme, &fig.title, "no matrix values to plot");
    };
    let (values, block) = reduce(&fig.values);
    let rows = fig.values.len();
    let cols = fig.values.iter().map(Vec::len).max().unwrap_or(0);
    let note =
        (block > 1).then(|| format!("{rows}×{cols} shown as means of {block}×{block} blocks"));
    let subtitle = match (&fig.subtitle, note) {
        (Some(s), Some(n)) => Some(format!("{s}; {n}")),
        (s, n) => s.clone().or(n),
    };
    let body = style::title_block(area, theme, &fig.title, subtitle.as_deref())?;
    let (w, h) = body.dim_in_pixel();
    let bar_w = style::colour_bar_width(theme);
    // Square cells: the matrix gets a square plotting region, centred in what is left.
    let extra_x = theme.y_label_area() as i32;
    let extra_y = theme.x_label_area() as i32;
    let side = (w as i32 - bar_w as i32 - extra_x)
        .min(h as i32 - extra_y)
        .max(20);
    let used = side + extra_x + bar_w as i32;
    let left = ((w as i32 - used) / 2).max(0);
    let body = body.margin(0, 0, left, 0);
    let (matrix_area, rest) = body.split_horizontally(side + extra_x);
    let bar_area = rest.split_horizontally(bar_w).0;
    let bar_area = bar_area.margin(0, (h as i32 - side - extra_y).max(0), 0, 0);

    let (d_lo, d_hi) = fig.map.domain(lo, hi);
    let (n_rows, n_cols) = (rows as f64, cols as f64);
    let mut chart = ChartBuilder::on(&matrix_area)
        .margin_top(4)
        .x_label_area_size(theme.x_label_area())
        .y_label_area_size(theme.y_label_area())
        .build_cartesian_2d(
            CellAxis {
                n: n_cols,
                ticks: index_ticks(cols),
            },
            CellAxis {
                n: n_rows,
                ticks: index_ticks(rows).into_iter().map(|t| n_rows - t).collect(),
            },
        )?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(fig.x_label.as_str())
        .y_desc(fig.y_label.as_str())
        .x_label_formatter(&|v| format!("{}", v.floor()))
        .y_label_formatter(&|v| format!("{}", (n_rows - v).floor()))
        .label_style((FONT, theme.tick))
        .axis_desc_style((FONT, theme.label))
        .draw()?;
    let b = block as f64;
    let cell = |i: usize, j: usize| {
        let x0 = j as f64 * b;
        let x1 = ((j + 1) as f64 * b).min(n_cols);
        let y1 = n_rows - i as f64 * b;
        let y0 = (n_rows - (i + 1) as f64 * b).max(0.0);
        (x0, x1, y0, y1)
    };
    chart.draw_series(values.iter().enumerate().flat_map(|(i, row)| {
        row.iter().enumerate().map(move |(j, &v)| {
            let (x0, x1, y0, y1) = cell(i, j);
            let colour = if v.is_finite() {
                fig.map.at((v - d_lo) / (d_hi - d_lo))
            } else {
                style::MISSING
            };
            Rectangle::new([(x0, y0), (x1, y1)], colour.filled())
        })
    }))?;
    // A thin frame so white (zero) cells at the border do not merge with the page.
    chart.draw_series(std::iter::once(Rectangle::new(
        [(0.0, 0.0), (n_cols, n_rows)],
        BLACK.mix(0.5).stroke_width(1),
    )))?;
    if fig.annotate && block == 1 && rows <= 20 && cols <= 20 {
        let size = (theme.tick * 0.9).min(f64::from(side as u32) / cols.max(1) as f64 * 0.35);
        for (i, row) in values.iter().enumerate() {
            for (j, &v) in row.iter().enumerate().filter(|(_, v)| v.is_finite()) {
                let bg = fig.map.at((v - d_lo) / (d_hi - d_lo));
                let luminance =
                    0.299 * f64::from(bg.0) + 0.587 * f64::from(bg.1) + 0.114 * f64::from(bg.2);
                let ink = if luminance < 128.0 { WHITE } else { BLACK };
                let style = TextStyle::from((FONT, size).into_font())
                    .color(&ink)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                let (x0, x1, y0, y1) = cell(i, j);
                chart.draw_series(std::iter::once(Text::new(
                    cell_text(v),
                    ((x0 + x1) / 2.0, (y0 + y1) / 2.0),
                    style,
                )))?;
            }
        }
    }
    style::colour_bar(
        &bar_area,
        theme,
        fig.map,
        (d_lo, d_hi),
        &fig.bar_label,
        false,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plots::style::ColourMap;
    use crate::plots::testing::{assert_svg, has_no_nan};
    use crate::plots::{Figure, Size, render};

    fn figure(values: Vec<Vec<f64>>, annotate: bool) -> Figure {
        Figure::Heatmap(HeatmapFigure {
            title: "Weight matrix".into(),
            subtitle: None,
            x_label: "source neuron j".into(),
            y_label: "target neuron i".into(),
            bar_label: "weight Wᵢⱼ".into(),
            values,
            map: ColourMap::Diverging,
            annotate,
        })
    }

    #[test]
    fn matrix_with_missing_cells_renders() {
        let svg = render(
            &figure(
                vec![
                    vec![1.0, -2.0, f64::NAN],
                    vec![0.0, 0.5, 3.0],
                    vec![-1.0, 0.0, 0.0],
                ],
                true,
            ),
            Size::DEFAULT,
        )
        .unwrap();
        assert_svg(
            &svg,
            &[
                "Weight matrix",
                "source neuron j",
                "target neuron i",
                "weight Wᵢⱼ",
                "-2",
            ],
        );
        assert!(has_no_nan(&svg));
        // The diverging scale is symmetric: white sits at 0 (the domain is ±3).
        assert_eq!(ColourMap::Diverging.domain(-2.0, 3.0), (-3.0, 3.0));
        assert_eq!(ColourMap::Diverging.at(0.5), RGBColor(247, 247, 247));
    }

    #[test]
    fn large_matrices_are_block_averaged() {
        let n = 250;
        let values: Vec<Vec<f64>> = (0..n)
            .map(|i| (0..n).map(|j| (i as f64 - j as f64) / n as f64).collect())
            .collect();
        let svg = render(&figure(values, false), Size::DEFAULT).unwrap();
        assert_svg(&svg, &["250×250 shown as means of 3×3 blocks"]);
        assert!(svg.len() < 1_500_000, "{} bytes", svg.len());
    }

    #[test]
    fn empty_and_all_nan_are_placeholders() {
        for values in [vec![], vec![vec![f64::NAN]]] {
            let svg = render(&figure(values, false), Size::DEFAULT).unwrap();
            assert_svg(&svg, &["Weight matrix", "no matrix"]);
        }
    }

    #[test]
    fn ticks_are_at_cell_centres() {
        assert_eq!(index_ticks(4), vec![0.5, 1.5, 2.5, 3.5]);
        assert_eq!(index_ticks(100).len(), 10);
        let (r, block) = reduce(&[vec![1.0, 3.0], vec![2.0, 5.0]]);
        assert_eq!((r, block), (vec![vec![1.0, 3.0], vec![2.0, 5.0]], 1));
    }
}
