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
        wout += hiddenlayer_activations.T.dot(d_output) * lr
        bout += np.sum(d_output, axis=0, keepdims=True) * lr
        wh += X.T.dot(d_hiddenlayer) * lr
        bh += np.sum(d_hiddenlayer, axis=0, keepdims=True) * lr
        rec.update(hidden_layer_input=hidden_layer_input,
                   hiddenlayer_activations=hiddenlayer_activations,
                   output_layer_input=output_layer_input, output=output, E=E,
                   slope_output_layer=slope_output_layer, slope_hidden_layer=slope_hidden_layer,
                   d_output=d_output, Error_at_hidden_layer=Error_at_hidden_layer,
                   d_hiddenlayer=d_hiddenlayer, **{"wout@11": wout.copy(), "wh@11": wh.copy(),
                                                   "bh@12": bh.copy(), "bout@12": bout.copy()})
        epochs_out.append(rec)
    return epochs_out
