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

from .ops import ACTIVATIONS, Activate, Add, ColumnSum, Given, Loss, MatMul, Multiply, Op, Slope, Subtract


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

    def shapes(self, n: int) -> dict[str, tuple[int, int]]:
        """Shape of every name for n samples."""
        sizes = (self.inputs, *self.hidden, self.outputs)
        shapes = {"X": (n, self.inputs), "y": (n, self.outputs), "lr": (1, 1)}
        for l in range(len(self.hidden)):
            h = self._hidden_names(l)
            shapes[h["w"]] = (sizes[l], sizes[l + 1])
            shapes[h["b"]] = (1, sizes[l + 1])
        shapes["wout"] = (sizes[-2], sizes[-1])
        shapes["bout"] = (1, sizes[-1])
        for step in self.steps():
            for c in step.computes:
                if not isinstance(c.op, Given):
                    shapes[c.result] = c.op.shape(*(shapes[o] for o in c.operands))
        return {k: v for k, v in shapes.items() if k in self.names() or k == "lr"}

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
        add("initialise", *(Compute(p, Given("start_value")) for p in self.parameters()))
        previous = "X"
        for h in layers:
            add("hidden_input", dense(h["input"], previous, h["w"], h["b"]), layer=h["n"])
            add("hidden_activations", Compute(h["act"], Activate(fn), (h["input"],)), layer=h["n"])
            previous = h["act"]
        add("output_layer", dense("output_layer_input", previous, "wout", "bout"),
            Compute("output", Activate(fn), ("output_layer_input",)))
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
        # an update is shown as its amount, then the parameter plus that amount: a change
        # below the shown decimals of the parameter is still visible in the amount
        inputs_of = ["X"] + [h["act"] for h in layers]
        weights = [("wout", inputs_of[-1], "d_output")] + [
            (h["w"], inputs_of[l], h["delta"]) for l, h in reversed(list(enumerate(layers)))]
        add("update_weights", *(c for w, a, d in weights for c in (
            Compute(f"update_{w}", MatMul(transposed=(True, False), scaled=True), (a, d, "lr")),
            Compute(w, Add(), (w, f"update_{w}")))))
        if self.bias and self.train_bias:
            biases = [(h["b"], h["delta"]) for h in layers] + [("bout", "d_output")]
            add("update_biases", *(c for b, d in biases for c in (
                Compute(f"update_{b}", ColumnSum(scaled=True), (d, "lr")),
                Compute(b, Add(), (b, f"update_{b}")))))
        return tuple(Step(i, key, layer, tuple(c)) for i, (key, layer, c) in enumerate(steps, 1))

    def describe(self) -> str:
        sizes = "→".join(str(s) for s in (self.inputs, *self.hidden, self.outputs))
        return f"{sizes} {self.activation}" + ("" if self.bias else ", no bias") + (
            "" if self.train_bias or not self.bias else ", frozen bias") + f", loss {self.loss}"
