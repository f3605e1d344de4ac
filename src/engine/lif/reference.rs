//! A plain dense f64 implementation of one sample's forward pass and BPTT, written straight from
//! SCIENCE.md B1–B3 with every input, step and unit visited: the yardstick for the event-driven
//! engine in the tests.

use super::config::{Decode, LayerSpec, LifConfig, Loss, Reset};
use super::model::{Model, Params};

/// Gradients of one layer: weights (input-major), bias, leak.
pub struct Grad {
    pub w: Vec<f64>,
    pub b: Vec<f64>,
    pub leak: Vec<f64>,
}

/// Scores, loss and all gradients of one sample.
pub struct Reference {
    pub scores: Vec<f64>,
    pub loss: f64,
    pub layers: Vec<Grad>,
    pub readout: Grad,
}

/// What a layer needs for its backward pass.
struct Record {
    input: Vec<Vec<f64>>,
    a: Vec<Vec<f64>>,
    u: Vec<Vec<f64>>,
}

fn f(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

fn dense(p: &Params, input: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let w = f(&p.weights);
    input
        .iter()
        .map(|x| {
            (0..p.units)
                .map(|j| {
                    p.bias[j] as f64
                        + (0..p.inputs)
                            .map(|i| x[i] * w[i * p.units + j])
                            .sum::<f64>()
                })
                .collect()
        })
        .collect()
}

/// u_t, V_t, s_t of a LIF layer.
fn lif(a: &[Vec<f64>], leak: &[f64], theta: f64, reset: Reset) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let n = leak.len();
    let (mut v, mut s) = (vec![0.0; n], vec![0.0; n]);
    let (mut us, mut ss) = (Vec::new(), Vec::new());
    for at in a {
        let mut u = vec![0.0; n];
        for j in 0..n {
            u[j] = match reset {
                Reset::Zero => at[j] + (1.0 - leak[j]) * v[j] * (1.0 - s[j]),
                Reset::Subtract => at[j] + (1.0 - leak[j]) * v[j] - theta * s[j],
            };
            v[j] = u[j].max(0.0);
            s[j] = if v[j] >= theta { 1.0 } else { 0.0 };
        }
        us.push(u);
        ss.push(s.clone());
    }
    (us, ss)
}

fn surrogate(spec: &LayerSpec, x: f64) -> f64 {
    let LayerSpec::Lif(s) = spec else { return 0.0 };
    let b = s.beta;
    match s.surrogate {
        super::config::Surrogate::Flat => 1.0,
        super::config::Surrogate::SuperSpike => 1.0 / (b * x.abs() + 1.0).powi(2),
        super::config::Surrogate::Sigmoid => {
            let z = 1.0 / (1.0 + (-b * x).exp());
            b * z * (1.0 - z)
        }
        super::config::Surrogate::Triangle => (1.0 - b * x.abs()).max(0.0),
    }
}

/// Runs the reference on a dense input (T × inputs).
pub fn run(config: &LifConfig, model: &Model, x: &[Vec<f64>], label: usize) -> Reference {
    let mut h = x.to_vec();
    let mut records = Vec::new();
    for (spec, p) in config.layers.iter().zip(&model.layers) {
        let a = dense(p, &h);
        let (u, out) = match spec {
            LayerSpec::Lif(s) => lif(&a, &f(&p.leak), s.threshold, s.reset),
            LayerSpec::Dense(_) => {
                let y = a
                    .iter()
                    .map(|r| r.iter().map(|v| v.max(0.0)).collect())
                    .collect();
                (a.clone(), y)
            }
        };
        records.push(Record { input: h, a, u });
        h = out;
    }
    let r = &model.readout;
    let a_out = dense(r, &h);
    let q = 1.0 - r.leak[0] as f64;
    let mut v_out = Vec::new();
    let mut u_out = Vec::new();
    let mut v = vec![0.0; r.units];
    for at in &a_out {
        let u: Vec<f64> = (0..r.units).map(|c| at[c] + q * v[c]).collect();
        v = u.iter().map(|x| x.max(0.0)).collect();
        u_out.push(u);
        v_out.push(v.clone());
    }
    let steps = x.len();
    let (scores, peak) = decode(config.readout.decode, &v_out);
    let (loss, dz) = loss(config.loss, &scores, label);
    // read-out backward
    let mut delta = vec![vec![0.0; r.units]; steps];
    let mut dleak_out = 0.0;
    for c in 0..r.units {
        let mut du_next = 0.0;
        for t in (0..steps).rev() {
            let direct = match config.readout.decode {
                Decode::Last => {
                    if t == steps - 1 {
                        dz[c]
                    } else {
                        0.0
                    }
                }
                Decode::Max => {
                    if t == peak[c] {
                        dz[c]
                    } else {
                        0.0
                    }
                }
                Decode::Mean => dz[c] / steps as f64,
            };
            let dv = direct + du_next * q;
            let du = if u_out[t][c] > 0.0 { dv } else { 0.0 };
            delta[t][c] = du;
            let v_prev = if t > 0 { v_out[t - 1][c] } else { 0.0 };
            dleak_out -= du * v_prev;
            du_next = du;
        }
    }
    let (mut readout, mut dh) = dense_backward(r, &h, &delta);
    readout.leak = vec![dleak_out];
    let mut layers = Vec::new();
    for l in (0..config.layers.len()).rev() {
        let rec = &records[l];
        let p = &model.layers[l];
        let spec = &config.layers[l];
        let (delta, dleak) = match spec {
            LayerSpec::Lif(s) => lif_backward(spec, s.threshold, s.reset, &f(&p.leak), &rec.u, &dh),
            LayerSpec::Dense(_) => {
                let d = dh
                    .iter()
                    .zip(&rec.a)
                    .map(|(d, a)| {
                        d.iter()
                            .zip(a)
                            .map(|(d, a)| if *a > 0.0 { *d } else { 0.0 })
                            .collect()
                    })
                    .collect();
                (d, Vec::new())
            }
        };
        let (mut g, dprev) = dense_backward(p, &rec.input, &delta);
        g.leak = dleak;
        layers.push(g);
        dh = dprev;
    }
    layers.reverse();
    Reference {
        scores,
        loss,
        layers,
        readout,
    }
}

fn decode(decode: Decode, v: &[Vec<f64>]) -> (Vec<f64>, Vec<usize>) {
    let classes = v[0].len();
    let steps = v.len();
    let mut peak = vec![0; classes];
    let scores = (0..classes)
        .map(|c| match decode {
            Decode::Last => v[steps - 1][c],
            Decode::Mean => v.iter().map(|r| r[c]).sum::<f64>() / steps as f64,
            Decode::Max => {
                for t in 0..steps {
                    if v[t][c] > v[peak[c]][c] {
                        peak[c] = t;
                    }
                }
                v[peak[c]][c]
            }
        })
        .collect();
    (scores, peak)
}

fn loss(loss: Loss, z: &[f64], label: usize) -> (f64, Vec<f64>) {
    match loss {
        Loss::CrossEntropy => {
            let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = z.iter().map(|v| (v - m).exp()).sum();
            let p: Vec<f64> = z.iter().map(|v| (v - m).exp() / sum).collect();
            let g = p
                .iter()
                .enumerate()
                .map(|(c, pc)| pc - (c == label) as u8 as f64)
                .collect();
            (-(p[label]).ln(), g)
        }
        Loss::Mse => {
            let n = z.len() as f64;
            let e: Vec<f64> = z
                .iter()
                .enumerate()
                .map(|(c, v)| v - (c == label) as u8 as f64)
                .collect();
            (
                e.iter().map(|x| x * x).sum::<f64>() / n,
                e.iter().map(|x| 2.0 * x / n).collect(),
            )
        }
    }
}

/// B1 backward with c = ∂L/∂s.
fn lif_backward(
    spec: &LayerSpec,
    theta: f64,
    reset: Reset,
    leak: &[f64],
    u: &[Vec<f64>],
    c: &[Vec<f64>],
) -> (Vec<Vec<f64>>, Vec<f64>) {
    let steps = u.len();
    let n = leak.len();
    let mut delta = vec![vec![0.0; n]; steps];
    let mut dleak = vec![0.0; n];
    for j in 0..n {
        let v = |t: usize| u[t][j].max(0.0);
        let k = |t: usize| -> f64 {
            match reset {
                Reset::Zero if t > 0 && v(t - 1) >= theta => 0.0,
                _ => 1.0,
            }
        };
        let mut du_next = 0.0;
        for t in (0..steps).rev() {
            let k_next = if t + 1 < steps { k(t + 1) } else { 0.0 };
            let dv = c[t][j] * surrogate(spec, v(t) - theta) + du_next * (1.0 - leak[j]) * k_next;
            let du = if u[t][j] > 0.0 { dv } else { 0.0 };
            delta[t][j] = du;
            let v_prev = if t > 0 { v(t - 1) } else { 0.0 };
            dleak[j] -= du * v_prev * k(t);
            du_next = du;
        }
    }
    (delta, dleak)
}

/// Gradients of a = W·x + b for every step, and ∂L/∂x.
fn dense_backward(p: &Params, input: &[Vec<f64>], delta: &[Vec<f64>]) -> (Grad, Vec<Vec<f64>>) {
    let w = f(&p.weights);
    let mut gw = vec![0.0; p.inputs * p.units];
    let mut gb = vec![0.0; p.units];
    let mut dx = vec![vec![0.0; p.inputs]; input.len()];
    for (t, (x, d)) in input.iter().zip(delta).enumerate() {
        for i in 0..p.inputs {
            for j in 0..p.units {
                gw[i * p.units + j] += x[i] * d[j];
                dx[t][i] += w[i * p.units + j] * d[j];
            }
        }
        for j in 0..p.units {
            gb[j] += d[j];
        }
    }
    (
        Grad {
            w: gw,
            b: gb,
            leak: Vec::new(),
        },
        dx,
    )
}
