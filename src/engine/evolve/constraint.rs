//! The weight budget applied after every mutation (SCIENCE.md A6): without one, scaling all
//! weights up always raises I, so evolution would only inflate them.

use super::config::Constraint;
use super::genome::Genome;

/// Puts `genome` inside the budget: Frobenius rescales W to ‖W‖_F = value (a zero matrix
/// has no direction and stays zero; the bias is free), box clips weights and bias to
/// [−bound, bound], none leaves it alone.
pub fn apply(constraint: Constraint, genome: &mut Genome) {
    match constraint {
        Constraint::Frobenius { value } => {
            let norm = genome.weights.iter().map(|w| w * w).sum::<f64>().sqrt();
            if norm > 0.0 {
                let scale = value / norm;
                genome.weights.iter_mut().for_each(|w| *w *= scale);
            }
        }
        Constraint::Box { bound } => {
            let bias = genome.bias.iter_mut().flatten();
            genome
                .weights
                .iter_mut()
                .chain(bias)
                .for_each(|w| *w = w.clamp(-bound, bound));
        }
        Constraint::None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn genome(weights: Vec<f64>, bias: Option<Vec<f64>>) -> Genome {
        Genome {
            weights,
            bias,
            step_size: 0.1,
        }
    }

    #[test]
    fn frobenius_rescales_weights_only() {
        let mut g = genome(vec![3.0, 0.0, 0.0, 4.0], Some(vec![7.0, -7.0]));
        apply(Constraint::Frobenius { value: 10.0 }, &mut g);
        assert_eq!(g.weights, vec![6.0, 0.0, 0.0, 8.0]);
        assert_eq!(g.bias, Some(vec![7.0, -7.0]));
        let mut zero = genome(vec![0.0; 4], None);
        apply(Constraint::Frobenius { value: 1.0 }, &mut zero);
        assert_eq!(zero.weights, vec![0.0; 4]);
    }

    #[test]
    fn box_clips_weights_and_bias() {
        let mut g = genome(vec![5.0, -0.5, -4.0, 2.0], Some(vec![3.5, -9.0]));
        apply(Constraint::Box { bound: 3.0 }, &mut g);
        assert_eq!(g.weights, vec![3.0, -0.5, -3.0, 2.0]);
        assert_eq!(g.bias, Some(vec![3.0, -3.0]));
    }

    #[test]
    fn none_changes_nothing() {
        let mut g = genome(vec![50.0, -0.5, -4.0, 2.0], None);
        let before = g.clone();
        apply(Constraint::None, &mut g);
        assert_eq!(g, before);
    }
}
