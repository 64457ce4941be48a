"""An independent numpy implementation of the seed tutorial's training loop (seed 003),
written the way the tutorial writes it, recording every named value of every epoch.
It shares no code with stepviz."""
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def derivatives_sigmoid(x):
    return x * (1 - x)


def seed_loop(X, y, wh, bh, wout, bout, lr, epochs):
    """Return a list (one dict per epoch) of every value, named as in the tutorial."""
    wh, bh, wout, bout = (a.copy() for a in (wh, bh, wout, bout))
    epochs_out = []
    for _ in range(epochs):
        rec = {"X": X, "y": y, "wh@2": wh.copy(), "bh@2": bh.copy(), "wout@2": wout.copy(),
               "bout@2": bout.copy()}
        hidden_layer_input1 = np.dot(X, wh)
        hidden_layer_input = hidden_layer_input1 + bh
        hiddenlayer_activations = sigmoid(hidden_layer_input)
        output_layer_input1 = np.dot(hiddenlayer_activations, wout)
        output_layer_input = output_layer_input1 + bout
        output = sigmoid(output_layer_input)
        E = y - output
        slope_output_layer = derivatives_sigmoid(output)
        slope_hidden_layer = derivatives_sigmoid(hiddenlayer_activations)
        d_output = E * slope_output_layer
        Error_at_hidden_layer = d_output.dot(wout.T)
        d_hiddenlayer = Error_at_hidden_layer * slope_hidden_layer
        # the tutorial's updates, with each amount kept (stepviz shows it as its own block)
        update_wout = hiddenlayer_activations.T.dot(d_output) * lr
        update_bout = np.sum(d_output, axis=0, keepdims=True) * lr
        update_wh = X.T.dot(d_hiddenlayer) * lr
        update_bh = np.sum(d_hiddenlayer, axis=0, keepdims=True) * lr
        wout += update_wout
        bout += update_bout
        wh += update_wh
        bh += update_bh
        rec.update(hidden_layer_input=hidden_layer_input,
                   hiddenlayer_activations=hiddenlayer_activations,
                   output_layer_input=output_layer_input, output=output, E=E,
                   loss=np.array([[0.5 * np.sum(E ** 2)]]),
                   slope_output_layer=slope_output_layer, slope_hidden_layer=slope_hidden_layer,
                   d_output=d_output, Error_at_hidden_layer=Error_at_hidden_layer,
                   d_hiddenlayer=d_hiddenlayer, update_wout=update_wout, update_wh=update_wh,
                   update_bh=update_bh, update_bout=update_bout, **{"wout@11": wout.copy(), "wh@11": wh.copy(),
                                                   "bh@12": bh.copy(), "bout@12": bout.copy()})
        epochs_out.append(rec)
    return epochs_out


ACTIVATIONS = {
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda a: a * (1 - a)),
    "tanh": (np.tanh, lambda a: 1 - a ** 2),
    "relu": (lambda z: np.maximum(z, 0), lambda a: (a > 0).astype(float)),
}


def general_loop(X, y, Ws, bs, lr, epochs, activation="sigmoid", loss_kind="error", train_bias=True,
                 optimizer="gd", momentum=0.9, beta1=0.9, beta2=0.999, eps=1e-8):
    """Any depth: Ws = [wh1, ..., wout], bs = matching biases or None. Returns one dict per
    epoch; parameters and optimizer state appear as 'name@start' and 'name@end'.

    The optimizers step along g = aᵀ·d (minus the loss's gradient): momentum as PyTorch's
    SGD (buf = μ·buf + g; w += lr·buf), Adam as Kingma & Ba with bias correction."""
    f, df = ACTIVATIONS[activation]
    Ws = [w.copy() for w in Ws]
    bs = None if bs is None else [b.copy() for b in bs]
    L = len(Ws) - 1  # hidden layers
    sfx = ["" if L == 1 else str(l + 1) for l in range(L)]
    wname = [f"wh{s}" for s in sfx] + ["wout"]
    bname = [f"bh{s}" for s in sfx] + ["bout"]
    history = []
    trained = {wname[l]: ("W", l) for l in range(L + 1)}
    if bs is not None and train_bias:
        trained.update({bname[l]: ("b", l) for l in range(L + 1)})
    kinds = {"gd": [], "momentum": ["v"], "adam": ["m", "s"]}[optimizer]
    state = {f"{k}_{p}": np.zeros_like((Ws if kind == "W" else bs)[l])
             for p, (kind, l) in trained.items() for k in kinds}
    for epoch in range(1, epochs + 1):
        rec = {"X": X, "y": y}
        if optimizer == "adam":
            rec["t"] = np.array([[float(epoch)]])
        for l in range(L + 1):
            rec[wname[l] + "@start"] = Ws[l].copy()
            if bs is not None:
                rec[bname[l] + "@start"] = bs[l].copy()
        for name, value in state.items():
            rec[name + "@start"] = value.copy()
        acts, zs = [X], []
        for l in range(L + 1):
            z = acts[-1] @ Ws[l] + (bs[l] if bs is not None else 0.0)
            zs.append(z)
            acts.append(f(z))
        E = y - acts[-1]
        slopes = [df(a) for a in acts[1:]]
        deltas = [None] * (L + 1)
        deltas[L] = E * slopes[L] * (2.0 if loss_kind == "sse" else 1.0)
        errors = [None] * L
        for l in reversed(range(L)):
            errors[l] = deltas[l + 1] @ Ws[l + 1].T
            deltas[l] = errors[l] * slopes[l]
        for name, (kind, l) in trained.items():
            g = acts[l].T @ deltas[l] if kind == "W" else np.sum(deltas[l], axis=0, keepdims=True)
            params = Ws if kind == "W" else bs
            if optimizer == "gd":
                rec["update_" + name] = g * lr
                params[l] = params[l] + rec["update_" + name]
                continue
            rec["g_" + name] = g
            if optimizer == "momentum":
                state["v_" + name] = momentum * state["v_" + name] + g
                params[l] = params[l] + lr * state["v_" + name]
            else:
                m = state["m_" + name] = beta1 * state["m_" + name] + (1 - beta1) * g
                s = state["s_" + name] = beta2 * state["s_" + name] + (1 - beta2) * g * g
                rec["mhat_" + name] = m / (1 - beta1 ** epoch)
                rec["shat_" + name] = s / (1 - beta2 ** epoch)
                params[l] = params[l] + lr * rec["mhat_" + name] / (np.sqrt(rec["shat_" + name]) + eps)
        loss = np.sum(E ** 2) * (1.0 if loss_kind == "sse" else 0.5)
        rec.update(output_layer_input=zs[L], output=acts[-1], E=E, slope_output_layer=slopes[L],
                   d_output=deltas[L], loss=np.array([[loss]]))
        for l in range(L):
            rec.update({f"hidden_layer_input{sfx[l]}": zs[l], f"hiddenlayer_activations{sfx[l]}": acts[l + 1],
                        f"slope_hidden_layer{sfx[l]}": slopes[l], f"Error_at_hidden_layer{sfx[l]}": errors[l],
                        f"d_hiddenlayer{sfx[l]}": deltas[l]})
        for l in range(L + 1):
            rec[wname[l] + "@end"] = Ws[l].copy()
            if bs is not None:
                rec[bname[l] + "@end"] = bs[l].copy()
        for name, value in state.items():
            rec[name + "@end"] = value.copy()
        history.append(rec)
    return history
