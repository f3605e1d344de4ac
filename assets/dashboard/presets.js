// Presets users run first, and the form of each kind: which spec fields the form shows, by the
// same paths the server names in its validation errors (`spec.network.nrooks.n`, ...).

export const PRESETS = [
  {
    id: 'nrooks',
    label: 'N-rooks check',
    help: 'N = 4 rooks with q = 2, exact: I must come out as N·(1 − h2(σ(−q))) = 1.89174 bits. Finishes in well under a second.',
    body: {
      kind: 'mi',
      name: 'N-rooks check',
      spec: { network: { nrooks: { n: 4, q: 2, permutation: 'ring', signs: 'positive' } }, method: 'exact', attractors: true, seed: 1 },
    },
  },
  {
    id: 'sweep',
    label: 'I versus C sweep',
    help: 'Gaussian N = 10 networks, 3 replicates at each of 6 weight scales: I rises with C. About a second.',
    body: {
      kind: 'mi',
      name: 'I versus C',
      spec: {
        network: {
          ensemble: { type: 'gaussian', n: 10, std: 1.0, replicates: 3 },
          sweep: { param: 'std', values: [0.1, 0.2, 0.4, 0.8, 1.6, 3.2] },
        },
        method: 'auto',
        correlation: { lag: 1, include_diagonal: true },
        seed: 7,
      },
    },
  },
  {
    id: 'evolution8',
    label: 'N = 8 evolution',
    help: 'A (16+64) evolution strategy maximising exact I under a Frobenius budget of 3·√8; the best genome approaches an N-rooks matrix. Minutes.',
    body: {
      kind: 'evolution',
      name: 'N = 8 evolution',
      spec: {
        n: 8,
        init: { ensemble: { type: 'gaussian', std: 1.0 } },
        strategy: 'plus', parents: 16, offspring: 64, generations: 2000,
        mutation: { std: 0.1, rate: 1.0 },
        constraint: { type: 'frobenius', value: 8.49 },
        objectives: [{ name: 'mi', weight: 1.0 }],
        mode: 'weighted',
        input: 'symmetric',
        seed: 1,
        checkpoint_every: 25,
      },
    },
  },
  {
    id: 'mnist',
    label: 'MNIST LIF training',
    help: 'A 256-unit LIF layer with trainable leaks on the built-in 10,000-image MNIST subset, 10 epochs of Adam with surrogate gradients.',
    body: {
      kind: 'lif',
      name: 'MNIST LIF',
      spec: {
        dataset: { builtin: 'mnist10k' },
        split: { train: 8000, test: 2000 },
        encoding: { type: 'poisson', steps: 25, rate: 1.0 },
        layers: [{ type: 'lif', units: 256, leak_init: [0.0, 0.1], trainable_leak: true, surrogate: 'flat', beta: 10.0, reset: 'zero' }],
        readout: { type: 'leaky_integrator', decode: 'last' },
        loss: 'cross_entropy',
        optimizer: { type: 'adam', lr: 0.001 },
        batch_size: 128, epochs: 10, seed: 1,
        checkpoint_every: 1,
      },
    },
  },
];

export const KINDS = {
  mi: { label: 'mi — measure information flux', preset: 'nrooks' },
  evolution: { label: 'evolution — maximise information flux', preset: 'evolution8' },
  lif: { label: 'lif — train a spiking network', preset: 'mnist' },
};

// ---- field paths ------------------------------------------------------------------------------

/** 'spec.layers[0].units' → ['spec', 'layers', 0, 'units']. */
export function parsePath(path) {
  const out = [];
  for (const part of path.split('.')) {
    const m = part.match(/^([^[\]]*)((?:\[\d+\])*)$/);
    if (!m) { out.push(part); continue; }
    if (m[1]) out.push(m[1]);
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

export function getPath(obj, path) {
  let cur = obj;
  for (const key of parsePath(path)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = cur[key];
  }
  return cur;
}

/** Sets (or, for `undefined`, deletes) the value at `path`, creating objects on the way. */
export function setPath(obj, path, value) {
  const keys = parsePath(path);
  let cur = obj;
  keys.slice(0, -1).forEach((key, i) => {
    if (cur[key] === null || typeof cur[key] !== 'object') cur[key] = typeof keys[i + 1] === 'number' ? [] : {};
    cur = cur[key];
  });
  const last = keys[keys.length - 1];
  if (value === undefined) delete cur[last];
  else cur[last] = value;
}

const has = (path) => (body) => getPath(body, path) !== undefined;
const choices = (...values) => values.map((v) => [v, v]);

// ---- datasets in the lif form ------------------------------------------------------------------

const BUILTIN_SPLIT = { train: 8000, test: 2000 };

/** Select options of the datasets the caller may train on (mnist10k until the list arrives). */
function datasetOptions(datasets) {
  const list = datasets && datasets.length ? datasets : [{ id: 'mnist10k', name: 'mnist10k', builtin: true }];
  return list.map((d) => [d.builtin ? `builtin:${d.id}` : `id:${d.id}`,
    d.builtin ? `${d.name} (built-in)` : `${d.name} (${Number(d.count).toLocaleString('en')} samples)`]);
}

/** The select value of a spec's dataset reference; undefined for synthetic tasks. */
function datasetChoice(ref) {
  if (ref?.builtin) return `builtin:${ref.builtin}`;
  if (ref?.id) return `id:${ref.id}`;
  return ref?.task ? `task:${ref.task}` : undefined;
}

/**
 * Points the spec at another dataset. An upload has its own size, so the split falls back to the
 * server's default (80 % / 20 %); the built-in gets the benchmarks' 8,000 / 2,000 back.
 */
export function chooseDataset(body, value) {
  const [type, ...rest] = value.split(':');
  const id = rest.join(':');
  if (type === 'builtin') {
    setPath(body, 'spec.dataset', { builtin: id });
    if (!getPath(body, 'spec.split')) setPath(body, 'spec.split', { ...BUILTIN_SPLIT });
  } else {
    setPath(body, 'spec.dataset', { id });
    setPath(body, 'spec.split', undefined);
  }
}

// ---- the forms --------------------------------------------------------------------------------

const NETWORK_DEFAULTS = {
  nrooks: { n: 4, q: 2, permutation: 'ring', signs: 'positive' },
  ensemble: { type: 'gaussian', n: 8, std: 1.0, replicates: 1 },
  weights: [[0.0, 2.0], [-1.5, 0.3]],
};

const CONSTRAINT_DEFAULTS = {
  frobenius: (body) => ({ type: 'frobenius', value: Number((3 * Math.sqrt(getPath(body, 'spec.n') || 8)).toFixed(3)) }),
  box: () => ({ type: 'box', bound: 3 }),
  none: () => ({ type: 'none' }),
};

/**
 * Field: {path, label, type: text|int|number|select|checkbox|numlist, options?, help?, when?,
 * get?, set?, rerender?}. `get`/`set` override plain path access for fields that pick a variant.
 */
export const FORMS = {
  mi: [
    { path: 'name', label: 'Name', type: 'text' },
    {
      path: 'spec.network', label: 'Network', type: 'select', rerender: true,
      options: [['nrooks', 'N-rooks'], ['ensemble', 'Gaussian ensemble'], ['weights', 'explicit matrix (edit the JSON)']],
      get: (b) => ['nrooks', 'ensemble', 'weights'].find((k) => getPath(b, `spec.network.${k}`) !== undefined),
      set: (b, v) => {
        const net = getPath(b, 'spec.network') || {};
        for (const k of Object.keys(NETWORK_DEFAULTS)) delete net[k];
        if (v === 'weights') delete net.sweep;
        net[v] = structuredClone(NETWORK_DEFAULTS[v]);
        setPath(b, 'spec.network', net);
      },
    },
    { path: 'spec.network.nrooks.n', label: 'N (neurons)', type: 'int', when: has('spec.network.nrooks') },
    { path: 'spec.network.nrooks.q', label: 'Weight q', type: 'number', when: has('spec.network.nrooks') },
    { path: 'spec.network.nrooks.permutation', label: 'Permutation', type: 'select', options: choices('ring', 'random'), when: has('spec.network.nrooks') },
    { path: 'spec.network.nrooks.signs', label: 'Signs', type: 'select', options: choices('positive', 'random'), when: has('spec.network.nrooks') },
    { path: 'spec.network.nrooks.replicates', label: 'Replicates', type: 'int', when: has('spec.network.nrooks') },
    { path: 'spec.network.ensemble.n', label: 'N (neurons)', type: 'int', when: has('spec.network.ensemble') },
    { path: 'spec.network.ensemble.std', label: 'Weight std', type: 'number', when: has('spec.network.ensemble') },
    { path: 'spec.network.ensemble.mean', label: 'Weight mean', type: 'number', when: has('spec.network.ensemble') },
    { path: 'spec.network.ensemble.density', label: 'Density', type: 'number', when: has('spec.network.ensemble') },
    { path: 'spec.network.ensemble.replicates', label: 'Replicates', type: 'int', when: has('spec.network.ensemble') },
    {
      path: 'spec.network.sweep.param', label: 'Sweep parameter', type: 'select', rerender: true,
      options: [['', 'no sweep'], ...choices('std', 'mean', 'density', 'balance', 'q', 'noise_std')],
      when: (b) => !has('spec.network.weights')(b),
      set: (b, v) => setPath(b, 'spec.network.sweep', v ? { param: v, values: getPath(b, 'spec.network.sweep.values') || [0.5, 1, 2] } : undefined),
    },
    { path: 'spec.network.sweep.values', label: 'Sweep values', type: 'numlist', help: 'Comma-separated numbers.', when: has('spec.network.sweep') },
    { path: 'spec.method', label: 'Method', type: 'select', options: choices('auto', 'exact', 'sampled') },
    { path: 'spec.attractors', label: 'Find attractors', type: 'checkbox' },
    { path: 'spec.seed', label: 'Seed', type: 'int' },
  ],
  evolution: [
    { path: 'name', label: 'Name', type: 'text' },
    { path: 'spec.n', label: 'N (neurons)', type: 'int' },
    { path: 'spec.generations', label: 'Generations', type: 'int' },
    { path: 'spec.parents', label: 'Parents', type: 'int' },
    { path: 'spec.offspring', label: 'Offspring', type: 'int' },
    { path: 'spec.strategy', label: 'Strategy', type: 'select', options: choices('plus', 'comma') },
    { path: 'spec.mutation.std', label: 'Mutation step size', type: 'number' },
    {
      path: 'spec.constraint.type', label: 'Constraint', type: 'select', rerender: true, options: choices('frobenius', 'box', 'none'),
      set: (b, v) => setPath(b, 'spec.constraint', CONSTRAINT_DEFAULTS[v](b)),
    },
    { path: 'spec.constraint.value', label: 'Frobenius budget', type: 'number', when: (b) => getPath(b, 'spec.constraint.type') === 'frobenius' },
    { path: 'spec.constraint.bound', label: 'Box bound', type: 'number', when: (b) => getPath(b, 'spec.constraint.type') === 'box' },
    { path: 'spec.objectives[0].name', label: 'First objective', type: 'select', options: choices('mi', 'correlation', 'mean_period') },
    { path: 'spec.mode', label: 'Mode', type: 'select', options: choices('weighted', 'pareto') },
    { path: 'spec.seed', label: 'Seed', type: 'int' },
    { path: 'spec.checkpoint_every', label: 'Checkpoint every (generations)', type: 'int' },
  ],
  lif: [
    { path: 'name', label: 'Name', type: 'text' },
    {
      path: 'spec.dataset', label: 'Dataset', type: 'select', rerender: true,
      help: 'The built-in MNIST subset or one of your uploads (Datasets page).',
      options: (ctx) => datasetOptions(ctx.datasets),
      get: (b) => datasetChoice(getPath(b, 'spec.dataset')),
      set: (b, v) => chooseDataset(b, v),
    },
    { path: 'spec.split.train', label: 'Training images', type: 'int' },
    { path: 'spec.split.test', label: 'Test images', type: 'int' },
    { path: 'spec.encoding.steps', label: 'Time steps', type: 'int' },
    { path: 'spec.layers[0].units', label: 'Units of the first layer', type: 'int' },
    { path: 'spec.optimizer.lr', label: 'Learning rate', type: 'number' },
    { path: 'spec.batch_size', label: 'Batch size', type: 'int' },
    { path: 'spec.epochs', label: 'Epochs', type: 'int' },
    { path: 'spec.seed', label: 'Seed', type: 'int' },
  ],
};
