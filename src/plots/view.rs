//! How a plot is viewed (`?log_x=&log_y=&x_min=&x_max=&y_min=&y_max=`): log axes and fixed
//! axis bounds for the figures with two numeric axes (lines and scatter plots).
//!
//! A log axis is drawn in log10 coordinates with tick labels in data units; values ≤ 0 have
//! no place on it and are left out (lines break there). Fixed bounds replace the fitted ones
//! and everything outside them is clipped.

use super::{Band, Line, LineFigure, Point, ScatterFigure};

/// Log axes and fixed bounds (in data units); the default fits both axes to the data.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct View {
    pub log_x: bool,
    pub log_y: bool,
    pub x_min: Option<f64>,
    pub x_max: Option<f64>,
    pub y_min: Option<f64>,
    pub y_max: Option<f64>,
}

/// One axis' coordinate: log10 on a log axis, where values ≤ 0 become NaN (left out).
fn coordinate(log: bool, v: f64) -> f64 {
    match (log, v > 0.0) {
        (false, _) => v,
        (true, true) => v.log10(),
        (true, false) => f64::NAN,
    }
}

/// `fitted` (drawn coordinates) with the user's bounds put over it; a bound that leaves an
/// empty range (e.g. only `x_min`, above all data) gets a window around it.
fn bounds(fitted: (f64, f64), lo: Option<f64>, hi: Option<f64>, log: bool) -> (f64, f64) {
    let lo = lo
        .map(|v| coordinate(log, v))
        .filter(|v| v.is_finite())
        .unwrap_or(fitted.0);
    let hi = hi
        .map(|v| coordinate(log, v))
        .filter(|v| v.is_finite())
        .unwrap_or(fitted.1);
    if lo < hi {
        (lo, hi)
    } else {
        super::style::widen(lo, lo)
    }
}

impl View {
    /// True when nothing is asked for: the figure is drawn as built.
    pub fn is_default(&self) -> bool {
        *self == View::default()
    }

    pub fn x(&self, v: f64) -> f64 {
        coordinate(self.log_x, v)
    }

    pub fn y(&self, v: f64) -> f64 {
        coordinate(self.log_y, v)
    }

    /// The x range to draw: the fitted one (drawn coordinates) under the user's bounds.
    pub fn x_bounds(&self, fitted: (f64, f64)) -> (f64, f64) {
        bounds(fitted, self.x_min, self.x_max, self.log_x)
    }

    pub fn y_bounds(&self, fitted: (f64, f64)) -> (f64, f64) {
        bounds(fitted, self.y_min, self.y_max, self.log_y)
    }

    /// The figure in drawn coordinates (log10 where asked for). A panel's fixed y range is
    /// kept only on a linear axis (e.g. 0..1 for accuracies) or where it stays positive.
    pub fn lines(&self, fig: &LineFigure) -> LineFigure {
        let mut out = fig.clone();
        for panel in &mut out.panels {
            for line in &mut panel.lines {
                *line = Line {
                    points: line
                        .points
                        .iter()
                        .map(|&(x, y)| (self.x(x), self.y(y)))
                        .collect(),
                    ..line.clone()
                };
            }
            if let Some(band) = &mut panel.band {
                *band = Band {
                    points: band
                        .points
                        .iter()
                        .map(|&(x, lo, hi)| (self.x(x), self.y(lo), self.y(hi)))
                        .collect(),
                    ..band.clone()
                };
            }
            panel.y_range = panel
                .y_range
                .map(|(lo, hi)| (self.y(lo), self.y(hi)))
                .filter(|(lo, hi)| lo.is_finite() && hi.is_finite() && lo < hi);
        }
        out
    }

    /// The figure in drawn coordinates (log10 where asked for).
    pub fn scatter(&self, fig: &ScatterFigure) -> ScatterFigure {
        let mut out = fig.clone();
        out.points = fig
            .points
            .iter()
            .map(|p| Point {
                x: self.x(p.x),
                y: self.y(p.y),
                group: p.group,
            })
            .collect();
        for curve in &mut out.curves {
            curve.points = curve
                .points
                .iter()
                .map(|&(x, y)| (self.x(x), self.y(y)))
                .collect();
        }
        out
    }
}

/// Clips a polyline to the rectangle `x` × `y` (Liang–Barsky per segment); the pieces inside
/// are returned separated by a NaN point, which the renderer reads as a break.
pub fn clip_polyline(points: &[(f64, f64)], x: (f64, f64), y: (f64, f64)) -> Vec<(f64, f64)> {
    let gap = (f64::NAN, f64::NAN);
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(points.len());
    let finite = |p: &(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let inside = |p: &(f64, f64)| (x.0..=x.1).contains(&p.0) && (y.0..=y.1).contains(&p.1);
    let mut last_kept: Option<(f64, f64)> = None;
    for (i, p) in points.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| points[j]).filter(finite);
        if !finite(p) {
            out.push(gap);
            last_kept = None;
            continue;
        }
        match prev {
            None => {
                if inside(p) {
                    out.push(*p);
                    last_kept = Some(*p);
                } else {
                    out.push(gap);
                }
            }
            Some(a) => match clip_segment(a, *p, x, y) {
                Some((s, e)) => {
                    if last_kept != Some(s) {
                        out.push(gap);
                        out.push(s);
                    }
                    out.push(e);
                    last_kept = Some(e);
                    if e != *p {
                        out.push(gap);
                        last_kept = None;
                    }
                }
                None => {
                    out.push(gap);
                    last_kept = None;
                }
            },
        }
    }
    out
}

/// The part of segment a→b inside the rectangle, if any (Liang–Barsky).
fn clip_segment(
    a: (f64, f64),
    b: (f64, f64),
    x: (f64, f64),
    y: (f64, f64),
) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0_f64, 1.0_f64);
    for (p, q) in [
        (-dx, a.0 - x.0),
        (dx, x.1 - a.0),
        (-dy, a.1 - y.0),
        (dy, y.1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    if t0 > t1 {
        return None;
    }
    let at = |t: f64| {
        if t == 0.0 {
            a
        } else if t == 1.0 {
            b
        } else {
            (a.0 + t * dx, a.1 + t * dy)
        }
    };
    Some((at(t0), at(t1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
        let mut out = vec![Vec::new()];
        for p in points {
            if p.0.is_nan() {
                if !out.last().unwrap().is_empty() {
                    out.push(Vec::new());
                }
            } else {
                out.last_mut().unwrap().push(*p);
            }
        }
        out.retain(|p| !p.is_empty());
        out
    }

    #[test]
    fn a_line_leaving_and_reentering_the_view_is_cut_at_the_edges() {
        let line = [(0.0, 0.0), (2.0, 2.0), (4.0, 0.0)];
        let clipped = clip_polyline(&line, (0.0, 4.0), (0.0, 1.0));
        assert_eq!(
            pieces(&clipped),
            vec![vec![(0.0, 0.0), (1.0, 1.0)], vec![(3.0, 1.0), (4.0, 0.0)]]
        );
        // Inside entirely: unchanged, one piece.
        let clipped = clip_polyline(&line, (-1.0, 5.0), (-1.0, 3.0));
        assert_eq!(pieces(&clipped), vec![line.to_vec()]);
    }

    #[test]
    fn log_axes_drop_non_positive_values_and_bounds_override_the_fit() {
        let view = View {
            log_x: true,
            x_min: Some(10.0),
            ..View::default()
        };
        assert_eq!(view.x(100.0), 2.0);
        assert!(view.x(0.0).is_nan() && view.x(-1.0).is_nan());
        assert_eq!(view.y(-1.0), -1.0);
        assert_eq!(view.x_bounds((0.0, 3.0)), (1.0, 3.0));
        assert_eq!(view.y_bounds((0.5, 0.7)), (0.5, 0.7));
        // A bound above all data still leaves a drawable range.
        let high = View {
            y_min: Some(5.0),
            ..View::default()
        };
        let (lo, hi) = high.y_bounds((0.0, 1.0));
        assert!(lo < hi && (lo..=hi).contains(&5.0));
    }
}
