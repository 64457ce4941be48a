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

from .ops import ACTIVATIONS, Activate, Dense, Given, MatmulT, Multiply, Op, Slope, Subtract
from .ops import UpdateBias, UpdateWeights


@dataclass(frozen=True)
class Compute:
    """One result of a step: ``result = op(*operands)``."""

    result: str
    op: Op
    operands: tuple[str, ...] = ()

    @property
    def words(self) -> str:
        return self.op.describe(self.result, self.operands)


@dataclass(frozen=True)
class Step:
    number: int
    title: str  # short title, used in sheet names: "1.03 hidden input"
    computes: tuple[Compute, ...]

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
        steps: list[tuple[str, list[Compute]]] = []
        add = lambda title, *computes: steps.append((title, list(computes)))  # noqa: E731

        def dense(result, a, w, b):
            return Compute(result, Dense(self.bias), (a, w, b) if self.bias else (a, w))

        add("inputs", Compute("X", Given("inputs")), Compute("y", Given("targets")))
        add("initialise", *(Compute(p, Given("start value")) for p in self.parameters()))
        previous = "X"
        for h in layers:
            add(f"hidden input{h['n'] and ' ' + h['n']}", dense(h["input"], previous, h["w"], h["b"]))
            add(f"hidden activations{h['n'] and ' ' + h['n']}",
                Compute(h["act"], Activate(fn), (h["input"],)))
            previous = h["act"]
        add("output layer", dense("output_layer_input", previous, "wout", "bout"),
            Compute("output", Activate(fn), ("output_layer_input",)))
        add("error", Compute("E", Subtract(), ("y", "output")))
        add("slopes", Compute("slope_output_layer", Slope(fn), ("output",)),
            *(Compute(h["slope"], Slope(fn), (h["act"],)) for h in layers))
        # sse loss ΣE² has gradient 2E (seeds 001/002); the tutorial's ½ΣE² has E.
        factor = 2.0 if self.loss == "sse" else 1.0
        add("output delta", Compute("d_output", Multiply(factor), ("E", "slope_output_layer")))
        upstream, upstream_w = "d_output", "wout"
        for h in reversed(layers):
            add(f"hidden error{h['n'] and ' ' + h['n']}",
                Compute(h["error"], MatmulT(), (upstream, upstream_w)))
            add(f"hidden delta{h['n'] and ' ' + h['n']}",
                Compute(h["delta"], Multiply(), (h["error"], h["slope"])))
            upstream, upstream_w = h["delta"], h["w"]
        inputs_of = ["X"] + [h["act"] for h in layers]
        add("update weights",
            Compute("wout", UpdateWeights(), ("wout", inputs_of[-1], "d_output", "lr")),
            *(Compute(h["w"], UpdateWeights(), (h["w"], inputs_of[l], h["delta"], "lr"))
              for l, h in reversed(list(enumerate(layers)))))
        if self.bias and self.train_bias:
            add("update biases",
                *(Compute(h["b"], UpdateBias(), (h["b"], h["delta"], "lr")) for h in layers),
                Compute("bout", UpdateBias(), ("bout", "d_output", "lr")))
        return tuple(Step(i, title, tuple(c)) for i, (title, c) in enumerate(steps, 1))

    def describe(self) -> str:
        sizes = "→".join(str(s) for s in (self.inputs, *self.hidden, self.outputs))
        return f"{sizes} {self.activation}" + ("" if self.bias else ", no bias") + (
            "" if self.train_bias or not self.bias else ", frozen bias") + f", loss {self.loss}"
