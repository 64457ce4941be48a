"""The step table: what each step of an epoch computes, under the tutorial's names.

The table is data. The engine runs it, the workbook draws it, the README's table is
printed from it; nothing else spells a step name or formula. One hidden layer gives
exactly the 12 steps of the tutorial; other depths repeat the hidden-layer steps per
layer (names get the layer number: ``wh1``, ``hidden_layer_input1``, ...); no hidden
layer gives the perceptron's shorter list.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from .ops import (ACTIVATIONS, ADAM_M, ADAM_S, ADAM_STEP, BCE_DELTA, BIAS_CORRECTION, CE_DELTA, MOMENTUM_BUFFER, STEP,
                  Activate, Add, ColumnSum, CrossEntropy, Given, Loss, MatMul, Multiply, Op, Slope, Softmax, Subtract)

OPTIMIZERS = ("gd", "momentum", "adam")
# the values an optimizer reads from the Overview (besides lr), and the state it keeps per
# trained parameter: starts at zero on step 2, carried from epoch to epoch like the weights
HYPERPARAMETERS = {"gd": (), "momentum": ("momentum",), "adam": ("beta1", "beta2", "eps")}
STATE = {"gd": (), "momentum": ("v",), "adam": ("m", "s")}


@dataclass(frozen=True)
class Compute:
    """One result of a step: ``result = op(*operands)``."""

    result: str
    op: Op
    operands: tuple[str, ...] = ()

    def words(self, msg=None) -> str:
        """The formula in words: ``hidden_layer_input = X · wh + bh``; ``msg`` translates
        the few words that are not names or symbols (stepviz.text.Messages)."""
        return self.op.describe(self.result, self.operands, msg or _english())


def _english():
    from .text import Messages

    return Messages("en")


@dataclass(frozen=True)
class Step:
    number: int
    key: str  # message key of its title: "hidden_input" (stepviz.text)
    layer: str  # "" or the layer's number when the network has several hidden layers
    computes: tuple[Compute, ...]

    @property
    def title(self) -> str:
        """The English title, used in sheet names: "1.03 hidden input"."""
        return _english()(f"steps.{self.key}") + (f" {self.layer}" if self.layer else "")

    @property
    def results(self) -> tuple[str, ...]:
        return tuple(c.result for c in self.computes)

    @property
    def given(self) -> bool:
        return all(isinstance(c.op, Given) for c in self.computes)


@dataclass(frozen=True)
class Network:
    """The shape of a network: layer sizes and the options that change its steps."""

    inputs: int
    hidden: tuple[int, ...]
    outputs: int
    bias: bool = True
    train_bias: bool = True
    loss: str = "error"
    activation: str = "sigmoid"
    optimizer: str = "gd"
    output: str = ""  # the output layer's activation: "" is the hidden one's; "softmax"

    @property
    def cross_entropy(self) -> bool:
        """Whether the loss is a cross-entropy (ce, bce): d_output is then E itself."""
        return self.loss in ("ce", "bce")

    # -- names ---------------------------------------------------------------
    def _hidden_names(self, l: int) -> dict[str, str]:
        s = "" if len(self.hidden) == 1 else str(l + 1)
        return {
            "w": f"wh{s}", "b": f"bh{s}", "input": f"hidden_layer_input{s}",
            "act": f"hiddenlayer_activations{s}", "slope": f"slope_hidden_layer{s}",
            "error": f"Error_at_hidden_layer{s}", "delta": f"d_hiddenlayer{s}", "n": s,
        }

    def parameters(self) -> tuple[str, ...]:
        """Parameter names in initialisation order (the seed's: wh, bh, wout, bout)."""
        names = []
        for l in range(len(self.hidden)):
            h = self._hidden_names(l)
            names += [h["w"], h["b"]] if self.bias else [h["w"]]
        names += ["wout", "bout"] if self.bias else ["wout"]
        return tuple(names)

    def trained(self) -> tuple[str, ...]:
        """The parameters an update changes (biases only when trained)."""
        biases = {"bout"} | {self._hidden_names(l)["b"] for l in range(len(self.hidden))}
        return tuple(p for p in self.parameters() if self.train_bias or p not in biases)

    def state(self) -> tuple[str, ...]:
        """The optimizer's state per trained parameter, in initialisation order (v_wh, ... or
        m_wh, s_wh, ...), then the epoch counter t where Adam's bias correction needs it."""
        kinds = STATE[self.optimizer]
        return tuple(f"{k}_{p}" for p in self.trained() for k in kinds) + (("t",) if self.optimizer == "adam" else ())

    def constants(self) -> tuple[str, ...]:
        """The values every step sheet reads from the Overview: lr and the optimizer's."""
        return ("lr", *HYPERPARAMETERS[self.optimizer])

    def shapes(self, n: int) -> dict[str, tuple[int, int]]:
        """Shape of every name for n samples."""
        sizes = (self.inputs, *self.hidden, self.outputs)
        shapes = {"X": (n, self.inputs), "y": (n, self.outputs), "t": (1, 1)}
        shapes.update({c: (1, 1) for c in self.constants()})
        for l in range(len(self.hidden)):
            h = self._hidden_names(l)
            shapes[h["w"]] = (sizes[l], sizes[l + 1])
            shapes[h["b"]] = (1, sizes[l + 1])
        shapes["wout"] = (sizes[-2], sizes[-1])
        shapes["bout"] = (1, sizes[-1])
        for name in self.state():
            if name != "t":
                shapes[name] = shapes[name.split("_", 1)[1]]  # m_wh is shaped like wh
        for step in self.steps():
            for c in step.computes:
                if not isinstance(c.op, Given):
                    shapes[c.result] = c.op.shape(*(shapes[o] for o in c.operands))
        keep = {*self.names(), *self.constants()}  # once: a lookup per key stays linear in the depth
        return {k: v for k, v in shapes.items() if k in keep}

    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r for s in self.steps() for r in s.results))

    def producers(self) -> tuple[dict[str, Step], dict[str, Step]]:
        """For each name, the first and the last step that lists it. They differ only for
        trained parameters: the start value (step 2) and the update (step 11 or 12)."""
        first, last = {}, {}
        for s in self.steps():
            for r in s.results:
                first.setdefault(r, s)
                last[r] = s
        return first, last

    # -- the table -----------------------------------------------------------
    @cache  # a Network is immutable; everything else reads this table
    def steps(self) -> tuple[Step, ...]:
        fn = ACTIVATIONS[self.activation]
        layers = [self._hidden_names(l) for l in range(len(self.hidden))]
        steps: list[tuple[str, str, list[Compute]]] = []
        add = lambda key, *computes, layer="": steps.append((key, layer, list(computes)))  # noqa: E731

        def dense(result, a, w, b):
            return Compute(result, MatMul(bias=self.bias), (a, w, b) if self.bias else (a, w))

        add("inputs", Compute("X", Given("inputs")), Compute("y", Given("targets")))
        add("initialise", *(Compute(p, Given("start_value")) for p in self.parameters()),
            *(Compute(n, Given("epoch" if n == "t" else "state_start")) for n in self.state()))
        previous = "X"
        for h in layers:
            add("hidden_input", dense(h["input"], previous, h["w"], h["b"]), layer=h["n"])
            add("hidden_activations", Compute(h["act"], Activate(fn), (h["input"],)), layer=h["n"])
            previous = h["act"]
        out_op = Softmax() if self.output == "softmax" else Activate(ACTIVATIONS[self.output or self.activation])
        add("output_layer", dense("output_layer_input", previous, "wout", "bout"),
            Compute("output", out_op, ("output_layer_input",)))
        if self.cross_entropy:
            # the loss's derivative cancels the output's slope: d_output = E, no output slope
            add("error", Compute("E", Subtract(), ("y", "output")),
                Compute("loss", CrossEntropy(binary=self.loss == "bce"), ("y", "output")))
            if layers:
                add("slopes", *(Compute(h["slope"], Slope(fn), (h["act"],)) for h in layers))
            add("output_delta", Compute("d_output", BCE_DELTA if self.loss == "bce" else CE_DELTA, ("E",)))
        else:
            add("error", Compute("E", Subtract(), ("y", "output")),
                Compute("loss", Loss(half=self.loss == "error"), ("E",)))
            add("slopes", Compute("slope_output_layer", Slope(fn), ("output",)),
                *(Compute(h["slope"], Slope(fn), (h["act"],)) for h in layers))
            # sse loss ΣE² has gradient 2E (seeds 001/002); the tutorial's ½ΣE² has E.
            factor = 2.0 if self.loss == "sse" else 1.0
            add("output_delta", Compute("d_output", Multiply(factor), ("E", "slope_output_layer")))
        upstream, upstream_w = "d_output", "wout"
        for h in reversed(layers):
            add("hidden_error", Compute(h["error"], MatMul(transposed=(False, True)), (upstream, upstream_w)),
                layer=h["n"])
            add("hidden_delta", Compute(h["delta"], Multiply(), (h["error"], h["slope"])), layer=h["n"])
            upstream, upstream_w = h["delta"], h["w"]
        # plain gradient descent shows an update as its amount, then the parameter plus that
        # amount (a change below the parameter's shown decimals is visible in the amount);
        # momentum and Adam show the direction g, the optimizer's state, then the step
        def update(p, direction, scaled, operands):
            if self.optimizer == "gd":
                return [Compute(f"update_{p}", scaled, (*operands, "lr")), Compute(p, Add(), (p, f"update_{p}"))]
            g = [Compute(f"g_{p}", direction, operands)]
            if self.optimizer == "momentum":
                return g + [Compute(f"v_{p}", MOMENTUM_BUFFER, (f"v_{p}", "momentum", f"g_{p}")),
                            Compute(p, STEP, (p, "lr", f"v_{p}"))]
            return g + [Compute(f"m_{p}", ADAM_M, (f"m_{p}", "beta1", f"g_{p}")),
                        Compute(f"s_{p}", ADAM_S, (f"s_{p}", "beta2", f"g_{p}")),
                        Compute(f"mhat_{p}", BIAS_CORRECTION, (f"m_{p}", "beta1", "t")),
                        Compute(f"shat_{p}", BIAS_CORRECTION, (f"s_{p}", "beta2", "t")),
                        Compute(p, ADAM_STEP, (p, "lr", f"mhat_{p}", f"shat_{p}", "eps"))]

        inputs_of = ["X"] + [h["act"] for h in layers]
        weights = [("wout", inputs_of[-1], "d_output")] + [
            (h["w"], inputs_of[l], h["delta"]) for l, h in reversed(list(enumerate(layers)))]
        add("update_weights", *(c for w, a, d in weights for c in update(
            w, MatMul(transposed=(True, False)), MatMul(transposed=(True, False), scaled=True), (a, d))))
        if self.bias and self.train_bias:
            biases = [(h["b"], h["delta"]) for h in layers] + [("bout", "d_output")]
            add("update_biases", *(c for b, d in biases for c in update(b, ColumnSum(), ColumnSum(scaled=True), (d,))))
        return tuple(Step(i, key, layer, tuple(c)) for i, (key, layer, c) in enumerate(steps, 1))

    def describe(self) -> str:
        sizes = "→".join(str(s) for s in (self.inputs, *self.hidden, self.outputs))
        return f"{sizes} {self.activation}" + (f", {self.output} output" if self.output else "") + ("" if self.bias else ", no bias") + (
            "" if self.train_bias or not self.bias else ", frozen bias") + f", loss {self.loss}" + (
            "" if self.optimizer == "gd" else f", {self.optimizer}")
