//! One sample through the whole hybrid network: every hidden layer (LIF or dense ReLU) in order,
//! then the read-out; and BPTT back through all of them, adding into a gradient [`Model`]. The
//! [`Trace`] keeps what the backward pass needs and is reused from sample to sample.

use super::activity::Activity;
use super::config::{LayerSpec, LifConfig};
use super::layer::{self, LifParams, SurrogateFn};
use super::linear::LinearGrad;
use super::model::Model;
use super::readout;

/// What one hidden layer did on the current sample.
#[derive(Default, Clone, Debug)]
pub struct LayerTrace {
    /// LIF: the pre-floor membrane u_t (T × n); dense: the pre-activation (T × n, or n if static).
    pub pre: Vec<f32>,
    /// The layer's output as the next layer sees it.
    pub out: Activity,
    cells: Vec<u32>,
}

/// Forward record and scratch space of one sample; one per worker, reused.
#[derive(Default, Clone, Debug)]
pub struct Trace {
    pub input: Activity,
    pub layers: Vec<LayerTrace>,
    /// The read-out's pre-floor membrane (T × classes).
    pub readout_u: Vec<f32>,
    pub scores: Vec<f32>,
    /// ∂L/∂scores, set by the caller before [`backward`].
    pub dscores: Vec<f32>,
    peak: Vec<usize>,
    d_out: Vec<f32>,
    d_prev: Vec<f32>,
    delta: Vec<f32>,
}

impl Trace {
    /// An empty trace for a network with `layers` hidden layers.
    pub fn new(layers: usize) -> Trace {
        Trace {
            layers: vec![LayerTrace::default(); layers],
            ..Trace::default()
        }
    }

    /// Spikes emitted by hidden layer `l` on this sample (`None` for dense layers).
    pub fn spike_count(&self, l: usize) -> Option<usize> {
        match &self.layers[l].out {
            Activity::Spikes(s) => Some(s.count()),
            _ => None,
        }
    }
}

fn lif_params<'a>(spec: &LayerSpec, leak: &'a [f32]) -> LifParams<'a> {
    let (threshold, reset) = match spec {
        LayerSpec::Lif(s) => (s.threshold as f32, s.reset),
        LayerSpec::Dense(_) => (1.0, Default::default()),
    };
    LifParams {
        leak,
        threshold,
        reset,
    }
}

/// Runs the network on `trace.input` (already encoded), filling the trace and `trace.scores`.
pub fn forward(config: &LifConfig, model: &Model, trace: &mut Trace) {
    let steps = config.encoding.steps;
    for (l, spec) in config.layers.iter().enumerate() {
        let (before, rest) = trace.layers.split_at_mut(l);
        let input = before.last().map_or(&trace.input, |p| &p.out);
        let lt = &mut rest[0];
        let params = &model.layers[l];
        match spec {
            LayerSpec::Lif(_) => {
                params.linear().forward(input, steps, &mut lt.pre);
                layer::forward(&lif_params(spec, &params.leak), &mut lt.pre, &mut lt.cells);
                let out = lt.out.spikes_mut();
                out.fill_from_cells(&lt.cells, params.units, steps);
            }
            LayerSpec::Dense(_) => {
                let is_static = input.is_static();
                match input {
                    Activity::Static(x) => params.linear().forward_static(x, &mut lt.pre),
                    _ => params.linear().forward(input, steps, &mut lt.pre),
                }
                let out = lt.out.values_mut(is_static);
                out.clear();
                out.extend(lt.pre.iter().map(|&a| a.max(0.0)));
            }
        }
    }
    let input = trace.layers.last().map_or(&trace.input, |p| &p.out);
    model
        .readout
        .linear()
        .forward(input, steps, &mut trace.readout_u);
    readout::forward(
        model.readout.leak[0],
        config.readout.decode,
        &mut trace.readout_u,
        model.classes,
        &mut trace.scores,
        &mut trace.peak,
    );
}

/// BPTT from `trace.dscores` back to the first layer's weights, adding every gradient into `grads`.
pub fn backward(config: &LifConfig, model: &Model, trace: &mut Trace, grads: &mut Model) {
    let hidden = config.layers.len();
    grads.readout.leak[0] += readout::backward(
        model.readout.leak[0],
        config.readout.decode,
        &trace.readout_u,
        model.classes,
        &trace.peak,
        &trace.dscores,
        &mut trace.delta,
    );
    let input = trace.layers.last().map_or(&trace.input, |p| &p.out);
    let g = &mut grads.readout;
    model.readout.linear().backward(
        input,
        &trace.delta,
        LinearGrad {
            w: &mut g.weights,
            b: &mut g.bias,
        },
        (hidden > 0).then_some(&mut trace.d_out),
    );
    for l in (0..hidden).rev() {
        layer_backward(config, model, trace, grads, l);
        std::mem::swap(&mut trace.d_out, &mut trace.d_prev);
    }
}

/// Backward through hidden layer `l`: ∂L/∂output in `trace.d_out` → gradients of its numbers, and
/// ∂L/∂input into `trace.d_prev` (except for the first layer, whose input is data).
fn layer_backward(
    config: &LifConfig,
    model: &Model,
    trace: &mut Trace,
    grads: &mut Model,
    l: usize,
) {
    let spec = &config.layers[l];
    let params = &model.layers[l];
    let lt = &trace.layers[l];
    let g = &mut grads.layers[l];
    match spec {
        LayerSpec::Lif(s) => {
            let sg = SurrogateFn {
                kind: s.surrogate,
                beta: s.beta as f32,
            };
            let p = lif_params(spec, &params.leak);
            layer::backward(&p, sg, &lt.pre, &trace.d_out, &mut trace.delta, &mut g.leak);
        }
        LayerSpec::Dense(_) => {
            trace.delta.clear();
            let gated = trace.d_out.iter().zip(&lt.pre);
            trace
                .delta
                .extend(gated.map(|(&d, &a)| if a > 0.0 { d } else { 0.0 }));
        }
    }
    let input = if l == 0 {
        &trace.input
    } else {
        &trace.layers[l - 1].out
    };
    params.linear().backward(
        input,
        &trace.delta,
        LinearGrad {
            w: &mut g.weights,
            b: &mut g.bias,
        },
        (l > 0).then_some(&mut trace.d_prev),
    );
}
