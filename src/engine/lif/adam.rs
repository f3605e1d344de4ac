//! Adam with bias correction, and the optional reduce-on-plateau learning-rate schedule. Both keep
//! their state in plain serialisable numbers, so a checkpoint resumes exactly.

use serde::{Deserialize, Serialize};

use super::config::{LifConfig, Optimizer, Plateau};
use super::model::{Model, Role};

/// First and second moments (shaped like the model) and the number of steps taken.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct AdamState {
    pub m: Model,
    pub v: Model,
    pub steps: u64,
}

impl AdamState {
    /// Zero moments for `model`.
    pub fn new(model: &Model) -> AdamState {
        AdamState {
            m: model.zeros_like(),
            v: model.zeros_like(),
            steps: 0,
        }
    }

    /// One update of every trainable tensor with learning rate `lr`; fixed leaks are left alone
    /// and clamped leaks are put back into [0, 1].
    pub fn step(
        &mut self,
        optimizer: &Optimizer,
        lr: f64,
        roles: &[Role],
        model: &mut Model,
        grads: &Model,
    ) {
        let Optimizer::Adam {
            beta1, beta2, eps, ..
        } = *optimizer;
        self.steps += 1;
        let t = self.steps.min(i32::MAX as u64) as i32;
        let rule = Rule {
            beta1: beta1 as f32,
            beta2: beta2 as f32,
            step: (lr / (1.0 - beta1.powi(t))) as f32,
            inv_bc2: (1.0 / (1.0 - beta2.powi(t))) as f32,
            eps: eps as f32,
        };
        let params = model.tensors_mut();
        let ms = self.m.tensors_mut();
        let vs = self.v.tensors_mut();
        let gs = grads.tensors();
        for ((((p, m), v), g), role) in params.into_iter().zip(ms).zip(vs).zip(gs).zip(roles) {
            match *role {
                Role::Leak {
                    trainable: false, ..
                } => {}
                Role::Leak { clamp, .. } => {
                    rule.apply(p, m, v, g);
                    if clamp {
                        p.iter_mut().for_each(|x| *x = x.clamp(0.0, 1.0));
                    }
                }
                Role::Weights | Role::Bias => rule.apply(p, m, v, g),
            }
        }
    }
}

/// The constants of one Adam step.
struct Rule {
    beta1: f32,
    beta2: f32,
    /// lr / (1 − β1^t).
    step: f32,
    /// 1 / (1 − β2^t).
    inv_bc2: f32,
    eps: f32,
}

impl Rule {
    fn apply(&self, p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32]) {
        for (((p, m), v), &g) in p.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
            *m = self.beta1 * *m + (1.0 - self.beta1) * g;
            *v = self.beta2 * *v + (1.0 - self.beta2) * g * g;
            *p -= self.step * *m / ((*v * self.inv_bc2).sqrt() + self.eps);
        }
    }
}

/// Reduce-on-plateau bookkeeping: the learning rate is derived from the count of reductions, so
/// it never drifts through repeated float products stored in a checkpoint.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct ScheduleState {
    pub reductions: u32,
    /// Best epoch training loss so far (rounded to f32, which round-trips through JSON exactly).
    pub best_loss: Option<f32>,
    pub bad_epochs: u32,
}

impl ScheduleState {
    /// The learning rate in force: lr₀·factor^reductions, at least `min_lr`.
    pub fn lr(&self, config: &LifConfig) -> f64 {
        let lr0 = config.optimizer.lr();
        match &config.schedule {
            Some(p) => (lr0 * p.factor.powi(self.reductions as i32)).max(p.min_lr.min(lr0)),
            None => lr0,
        }
    }

    /// Records an epoch's training loss; reduces the rate after more than `patience` epochs
    /// without a relative improvement of 1e-4.
    pub fn observe(&mut self, plateau: &Plateau, loss: f64) {
        let loss = loss as f32;
        let improved = |best: f32| loss < best - best.abs() * 1e-4;
        match self.best_loss {
            Some(best) if !improved(best) => {
                self.bad_epochs += 1;
                if self.bad_epochs > plateau.patience {
                    self.reductions += 1;
                    self.bad_epochs = 0;
                }
            }
            _ => {
                self.best_loss = Some(loss);
                self.bad_epochs = 0;
            }
        }
    }
}
