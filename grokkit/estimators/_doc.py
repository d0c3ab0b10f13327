"""The docstring sections grokkit estimators share (their shared parameters, the classifiers' losses)."""

LOSS_DOC = """        ``"mse"`` compares the outputs with one-hot targets (Omnigrok).
        ``"stablemax"`` is the StableMax cross-entropy of Prieto, Barsbey,
        Mediano & Birdal (2025, §3.3; :class:`grokkit.losses.StableMaxCrossEntropy`):
        −log(s(x_y) / Σ_j s(x_j)) with s(x) = x + 1 for x ≥ 0 and 1/(1 − x)
        below, in place of exp. Float32 softmax cross-entropy is absorbed to
        exactly 0 once the logits grow (softmax collapse); StableMax's is not.
        ``train_loss``/``test_loss`` record the criterion trained with, and
        ``predict_proba`` returns StableMax probabilities.
"""

SHARED_DOC = """
    alpha : float, default=1.0
        Omnigrok's **initialisation scale**: after PyTorch's default
        initialisation every parameter (biases included) is multiplied by α
        (Liu, Michaud & Tegmark, §2). α = 8 with weight decay makes MNIST grok.
        This is *not* scikit-learn ``MLPClassifier``'s ``alpha`` (an L2 penalty):
        for that, use ``weight_decay`` or ``norm_penalty``.
    weight_decay : float, default=0.01
        Decoupled weight decay γ of AdamW (L2 for ``optimizer="adam"``/``"sgd"``).
        Omnigrok: time to generalise ∝ 1/γ.
    lr : float, default=1e-3
    betas : (float, float), default=(0.9, 0.999)
        Adam/AdamW moment decay rates; the modular settings use (0.9, 0.98)
        (Nanda et al., Clauw et al.). Ignored by SGD.
    optimizer : {"adamw", "adam", "sgd", "orthoadamw"} or torch optimizer class, default="adamw"
        Extra optimizer arguments go through skorch's prefix, e.g.
        ``optimizer__eps=1e-6`` (``lr``, ``weight_decay`` and ``betas`` are set
        by their own parameters only). ``"orthoadamw"`` is ⊥AdamW
        (:class:`grokkit.optim.OrthoAdamW`; Prieto, Barsbey, Mediano & Birdal
        2025, *Grokking at the edge of numerical stability*, §5): before every
        AdamW step each parameter tensor's gradient loses its component along
        the tensor, g ← g − (⟨g, θ⟩/⟨θ, θ⟩) θ, the naïve-loss-minimisation
        direction that only scales the logits. The gradient Adam steps on is
        orthogonal to θ; Adam's per-coordinate scaling and the decoupled decay
        then act as in AdamW. The paper pairs it with ``weight_decay=0``.
    max_epochs : int
    batch_size : int or None, default=200
        ``-1`` or ``None`` = full batch (one step per epoch).
    constrain_norm : bool or float, default=False
        ``True`` keeps ‖θ‖₂ at its initial value, a float keeps it at that
        value: after every optimizer step all parameters are rescaled
        (Omnigrok's constrained runs, which remove grokking). Use with
        ``weight_decay=0``.
    norm_penalty : float, default=0.0
        δ in L + δ‖θ‖²₂. A negative δ pushes the norm *up* (Golechha §3: the
        network still groks while its norm grows; δ = −2e-10 there).
    input_noise : (float, float) or None, default=None
        Tan & Huang's adaptive input noise (§3.2): train on inputs (token
        embeddings for token models) plus N(0, σ²) with
        σ = max(λ₁ (1 − train acc), λ₂), updated every epoch. Speeds up
        generalisation (their Fig. 3). Evaluation uses clean inputs.
    mi_penalty : float, default=0.0
        Weight w of Tan & Huang's MI-regularised training (§4.3, Fig. 8): the
        loss becomes L − w · I(X; f(X)), with I the matrix mutual information
        (order 1) between the inputs and the outputs, differentiable, on a
        random subsample of ``MI_PENALTY_SAMPLES`` = 256 rows of each minibatch.
        Maximising it speeds up generalisation in their experiments.
    grokfast : None, ("ema", alpha, lamb) or ("ma", window, lamb), default=None
        Grokfast (Lee, Kang, Kim & Lee 2024): between ``loss.backward()`` and
        the optimizer step every gradient g gets a low-pass filtered copy of
        itself added (:class:`grokkit.callbacks.Grokfast`, the default
        callback ``"grokfast"``). ``"ema"``: h ← α h + (1 − α) g (h starts at
        the first gradient), then g ← g + λ h; the public modular-arithmetic
        setting is ``("ema", 0.98, 2.0)``. ``"ma"``: g ← g + λ · mean of the
        last w gradients (the current one included; fewer at the start, no
        warm-up); the public setting is ``("ma", 100, 5.0)``. λ = 0 trains
        exactly as without it. The filter state is kept in ``checkpoint_dir``
        checkpoints and in pickles, so resumed and unpickled runs continue it.
        The paper reports generalisation up to ~50× sooner on modular
        arithmetic; see ``grokkit reproduce degrokking_benchmark`` for what it
        does at Clauw et al.'s lr 0.03.
    measures : sequence, default: the Golechha progress measures
        Names from :func:`grokkit.measures.available_measures`, ``(name,
        params)`` pairs, or callables ``f(module, X, y) -> float | dict``.
        Each becomes one or more ``progress_`` columns.
    measure_every : int or "log", default="log"
        Record ``progress_`` every k epochs, or at ~20 log-spaced epochs per
        decade (plus the first and last).
    keep_checkpoints : bool, default=False
        Keep a CPU copy of the parameters at every recorded epoch in
        ``checkpoints_`` (epoch -> state dict); :meth:`module_at` rebuilds the
        module at any of them, e.g. for ``OInformationAnalyzer`` over a run.
    checkpoint_dir : str, path or None, default=None
        Make the run resumable: at every recorded epoch ``fit`` writes
        ``checkpoint.pt`` (module, optimizer, history, step count, every RNG
        and shuffle state, callback states such as the input-noise σ and
        learning-rate schedules) and ``progress.csv`` there, each atomically
        (written to a temporary name, then ``os.replace``). A later ``fit`` with
        the same parameters and data continues from the last checkpoint (a
        larger ``max_epochs`` extends the run) and trains only the remaining
        epochs; its ``progress_`` equals an uninterrupted run's. A checkpoint
        of other parameters or data raises ``ValueError``: a run is never
        silently restarted or mixed with another.
    checkpoint_every : int, str, datetime.timedelta or None, default=None
        Checkpoint cadence of a ``checkpoint_dir`` run, independent of
        recording: an int n writes a checkpoint at the end of the first epoch
        after n more optimizer steps, a duration (``"30s"``, ``"5min"``,
        ``"1.5h"`` or a ``timedelta``) at the end of the first epoch after
        that much wall-clock time. A killed run then loses at most that much
        (or one epoch, if an epoch is longer). ``None`` checkpoints at the
        recorded epochs only, whose gaps grow with ``measure_every="log"``
        (about 12 % of the run near epoch 10⁵). Recorded epochs are always
        checkpointed; the resumed ``progress_`` equals an uninterrupted run's
        whatever the cadence, and it may differ between the interrupted and
        the resuming fit.
    device : {"cpu", "cuda", "auto"} or torch.device, default="cpu"
        ``"auto"`` picks CUDA when available.
    dtype : {"float32", "float64"}, default="float32"
        Floating dtype of the parameters and of float inputs/targets. Omnigrok's
        and Nanda et al.'s public code train in float64: in float32 the
        ModularTransformer's train loss, 3.7e-7 at epoch 1 500, jumped tenfold
        twice (up to 0.9) by epoch 3 000; in float64 it did not. float64 costs
        about 2x per step on CPU. The initial parameters are the float32 ones
        cast, so both start from the same point.
    flush_denormal : bool, default=False
        Flush subnormal floats to zero on the CPU during ``fit`` (switched
        off afterwards). Long runs whose gradients vanish (train loss near
        zero, norm-constrained runs) fill Adam's state with subnormals, which
        x86 CPUs process many times slower; flushing only changes values below
        1.2e-38. The switch is per thread: it takes full effect when torch
        runs on one thread (as ``ReducedLandscape`` grid points do; measured on
        the constrained transformer: 89 ms/step throughout vs 88 → 181 without),
        but OpenMP worker threads that already exist keep subnormals. For
        multi-threaded runs call ``torch.set_flush_denormal(True)`` at the top
        of the script, before torch starts its thread pool (measured: 47 → 43
        ms/step vs 50 → 118 without, 2 threads). No effect on CUDA.
    compile : bool, default=False
        Run the training step's forward through :func:`torch.compile`
        (options as skorch's prefixed parameters: ``compile__mode="max-autotune"``,
        ``compile__backend=...``). Only the training forward is compiled:
        evaluation, measures and their forward hooks use the eager module,
        which shares the parameters, so ``module_``, checkpoints and pickles
        are unchanged. It is meant for larger models on GPU; on this project's
        2-core CPU it made the modular MLP slower (10 vs 4.7 ms/step). An
        adaptive ``input_noise`` changes σ every epoch, which recompiles.
    random_state : int, RandomState or None, default=None
        Seeds the initialisation, the minibatch order, dropout and the measures.
    verbose : int, default=0
        ``1`` shows a tqdm bar over epochs with train/test accuracy.
    on_divergence : {"raise", "warn"}, default="raise"
        A non-finite loss (common at large α) stops training either way;
        ``progress_`` keeps every row up to and including the failed epoch.
        ``"raise"`` then raises :class:`TrainingDiverged` (a ``ValueError``;
        ``GridSearchCV`` scores such a fit with ``error_score``), ``"warn"``
        warns and returns the stopped estimator with ``diverged_ = True``.
    callbacks : list of skorch callbacks, optional
        Added after grokkit's own (Grokfast filter, norm constraint, input
        noise, recorder, progress bar). Stock skorch callbacks work: the history has skorch's
        ``train_loss`` (mean training objective of the epoch), ``batches``,
        ``dur`` and, on recorded epochs with an eval_set, ``valid_loss``
        (= ``test_loss``) with ``valid_loss_best``. A callback that monitors a
        key (``EarlyStopping``, ``Checkpoint``) acts on the epochs that have it,
        so ``EarlyStopping(monitor="valid_loss")`` counts recorded epochs.
        Callbacks outside grokkit see what a ``NeuralNet`` shows them:
        ``dataset_train``/``dataset_valid`` are skorch ``Dataset`` objects of the
        inputs and the labels as given (``classes_`` values), minibatches are
        ``(X, y)`` with those labels, and the net predicts during the fit, so
        ``EpochScoring("accuracy")`` and ``BatchScoring`` score as in skorch.
        With ``on_train=False`` they score the eval_set, in a validation pass
        of ``batch_size`` minibatches run only for them (without an eval_set
        they record nothing, and ``fit`` warns). skorch's prefixed arguments:
        ``optimizer__*``, ``criterion__*``, ``compile__*``,
        ``callbacks__<name>[__<param>]`` for these callbacks and
        ``iterator_train__shuffle`` are honoured; ``module__*``, the other
        ``iterator_*__*`` and ``dataset__*`` have no meaning here and ``fit``
        refuses them with a ``ValueError`` naming them.
"""
