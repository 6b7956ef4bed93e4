"""The memory literature's cells since 2015 whose parameters are not gate blocks: :class:`ZooCell`, any kind of
:data:`~latchjax.core.cells.kinds.ZOO_KINDS` (IRNN, IndRNN, expRNN, AntisymmetricRNN, Lipschitz RNN, coRNN, LEM,
LRU, minGRU, minLSTM, S6), the bare recurrence
(no layer norm, residual, GLU or MLP around it), initialised as its authors' code does.

Each kind's hyperparameters are options of its spec, with the authors' defaults (``lru:rmin=0.9:rmax=0.999``,
``indrnn:rmax=1.007``); a value outside a kind's domain, an unknown option or a flavour the kind lacks is refused
in one line. A kind has the flavour of its authors' framework (``torch`` for PyTorch code, the Keras flavours
for Keras, TensorFlow and Flax code); the flavour sets the read-out's initialisation and the default optimizer
only. A sweep's ``--flavor`` applies where the kind has it; left at its default (``keras2``) it gives a kind that
lacks it the kind's own flavour, and any other flavour the kind lacks is refused (``--flavor torch --cells lru``), as
is a flavour named in the spec (``cornn:flavor=keras2``) that the kind lacks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import jax

from latchjax.core.cells.common import DEFAULT_FLAVOR, FLAVORS, Option, ZooKind, relu, relu_right
from latchjax.core.cells.kinds import ZOO_KINDS
from latchjax.core.cells.protocol import Carry, Params
from latchjax.core.vocabulary import SettingsError

MAX_UNITS = 2**16


@dataclass(frozen=True)
class ZooCell:
    """A literature cell of kind ``kind`` (:data:`~latchjax.core.cells.kinds.ZOO_KINDS`) with ``units`` units.

    ``options`` holds the hyperparameters given (``(("rmin", 0.9),)``); the others take the authors' defaults
    (:meth:`opt`). ``flavor`` ``None`` is the kind's own. Parameters are a dict of real float32 arrays (complex
    numbers as real and imaginary parts), so every optax optimizer applies.

    Example::

        cell = ZooCell("lru", units=8, options=(("rmin", 0.9), ("rmax", 0.999)))
        params = cell.init(jax.random.key(0), n_in=1)     # nu_log, theta_log, gamma_log, B_re, ...
        carry, y = cell.step(params, cell.initial_carry(16, 1), x_t)
    """

    kind: str
    units: int = 1
    flavor: str | None = None
    options: tuple[tuple[str, float | int], ...] = ()
    label: str | None = None
    kink: str = "framework"  # "right": ReLU's derivative 1 at 0 (explain's linearisation at rest)

    has_forget_bias = False  # no literature cell here has a forget gate whose bias a sweep sets

    def __post_init__(self) -> None:
        if self.kind not in ZOO_KINDS:
            raise ValueError(f"cell: unknown cell {self.kind!r}")
        spec = self.spec
        if self.flavor is None:
            object.__setattr__(self, "flavor", spec.flavors[0])
        if self.flavor not in FLAVORS:
            raise ValueError(f"flavor: unknown flavor {self.flavor!r}; allowed: {', '.join(FLAVORS)}")
        if self.flavor not in spec.flavors:
            raise ValueError(f"flavor: {self.kind} is defined by its authors' {_framework(spec)} code and has no "
                             f"{self.flavor} form; use flavor {' or '.join(spec.flavors)}")
        if not isinstance(self.units, int) or not 1 <= self.units <= MAX_UNITS:
            raise ValueError(f"units: must be an integer in [1, {MAX_UNITS}], got {self.units!r}")
        known = {o.name: o for o in spec.options}
        for name, value in self.options:
            if name not in known:
                allowed = ", ".join(known) or "none"
                raise ValueError(f"{name}: {self.kind} has no such option; its options: {allowed}")
            option = known[name]
            if not (math.isfinite(value) and option.domain(value)):
                raise ValueError(f"{name}: {self.kind}'s {option.help} must be {option.domain_text}, got {value!r}")
        spec.check(self)

    # --- what the cell is -------------------------------------------------------------------------

    @property
    def spec(self) -> ZooKind:
        return ZOO_KINDS[self.kind]

    def opt(self, name: str) -> Any:
        """The value of option ``name``: as given, else the authors' default."""
        given = dict(self.options)
        if name in given:
            return given[name]
        return next(o.default for o in self.spec.options if o.name == name)

    @property
    def name(self) -> str:
        """The label in results: the spec it was made from, else the kind and its options."""
        if self.label:
            return self.label
        return self.kind + "".join(f":{k}={v:g}" if isinstance(v, float) else f":{k}={v}" for k, v in self.options)

    @property
    def linear(self) -> bool:
        """Whether h' = a * h + b with a, b from the input alone (the associative scan applies)."""
        return self.spec.coefficients is not None

    @property
    def log_space(self) -> bool:
        """Whether the parallel scan composes this kind's coefficients in log space (minGRU, minLSTM: b > 0)."""
        return self.spec.log_coefficients is not None

    def coefficients(self, params: Params, x: jax.Array, log: bool = False) -> tuple[Any, Any]:
        """(a, b) of h' = a * h + b after reading ``x`` (or (log a, log b) with ``log``); a ``(real, imaginary)``
        pair each for a complex state (the LRU's). Only for a :attr:`linear` kind."""
        coefficients = self.spec.log_coefficients if log else self.spec.coefficients
        return coefficients(self, params, x)

    def linear_state(self, carry: Carry) -> Any:
        """The state h that :meth:`coefficients` act on, in a carry."""
        return self.spec.state(self, carry)

    def readout(self, params: Params, h: Any, x: jax.Array) -> Carry:
        """The carry after the step that read ``x`` and left the linear state ``h``."""
        return self.spec.readout(self, params, h, x)

    def relu(self, x: jax.Array) -> jax.Array:
        return relu_right(x) if self.kink == "right" else relu(x)

    def for_jacobian(self) -> ZooCell:
        """This cell with ReLU's derivative at 0 taken as 1: a ReLU cell resting at h = 0 (IRNN, IndRNN at
        their authors' init) then linearises to its active branch (IRNN: W_h; IndRNN: diag(u)) instead of
        to 0, and expRNN's modReLU to its slope beside 0 (1 where b >= 0, else 0). Values are the same; only the
        derivative at exactly 0 differs."""
        return replace(self, kink="right")

    def lr_scales(self) -> dict[str, float]:
        """Parameters that train at their own learning rate, as ``{name: ratio to the sweep's}`` (expRNN's A:
        ``lr_orth``); empty for most kinds."""
        return self.spec.lr_scales(self)

    def n_params(self, n_in: int = 1) -> int:
        shapes = jax.eval_shape(lambda: self.init(jax.random.key(0), n_in))
        return int(sum(s.size for s in jax.tree.leaves(shapes)))

    # --- the protocol -----------------------------------------------------------------------------

    def init(self, key: jax.Array, n_in: int, forget_bias: float | jax.Array | None = None) -> Params:
        """The authors' initialisation (``forget_bias`` is ignored: no literature cell here has one to set)."""
        return self.spec.init(self, key, n_in)

    def initial_carry(self, batch: int, n_in: int) -> Carry:
        return self.spec.carry(self, batch, n_in)

    def output(self, carry: Carry) -> jax.Array:
        """What a read-out sees: the carry, or its first element (y of coRNN's (y, z), the LRU's output)."""
        return carry[0] if isinstance(carry, tuple) else carry

    def with_output(self, carry: Carry, h: jax.Array) -> Carry:
        return (h, *carry[1:]) if isinstance(carry, tuple) else h

    def step(self, params: Params, carry: Carry, x: jax.Array) -> tuple[Carry, jax.Array]:
        carry, out, _ = self.spec.step(self, params, carry, x)
        return carry, out

    def step_with_gates(self, params: Params, carry: Carry, x: jax.Array) -> tuple[Carry, jax.Array, dict]:
        """:meth:`step`, plus the gates the kind has (minGRU ``update``, minLSTM ``forget``/``input``, S6 ``delta``)."""
        return self.spec.step(self, params, carry, x)


def _framework(spec: ZooKind) -> str:
    return "PyTorch" if spec.flavors == ("torch",) else "Keras/JAX"


def parse_zoo_cell(spec: str, units: int, flavor: str) -> ZooCell:
    """A :class:`ZooCell` from ``kind[:option=value...]``; ``units`` and ``flavor`` are the sweep's; ``units=`` and
    ``flavor=`` in the spec override them (a spec's flavour the kind lacks is refused). The sweep's flavour applies
    where the kind has it; the default one (:data:`~latchjax.core.cells.common.DEFAULT_FLAVOR`) gives way to the
    kind's own, and any other the kind lacks is refused as a :class:`~latchjax.core.vocabulary.SettingsError` of
    ``--flavor``."""
    kind, *items = spec.split(":")
    known: dict[str, Option] = {o.name: o for o in ZOO_KINDS[kind].options}
    fields: dict[str, Any] = {"units": units}
    options: list[tuple[str, float | int]] = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in ("units", "flavor", *known):
            allowed = ", ".join(("units", "flavor", *known))
            raise ValueError(f"cell: bad option {item!r} in {spec!r}; {kind} takes {allowed}")
        if key == "flavor":
            fields["flavor"] = value
            continue
        cast = int if key == "units" else known[key].type
        try:
            parsed = cast(value)
        except ValueError:
            raise ValueError(f"{key}: must be {'an integer' if cast is int else 'a number'} in {spec!r}, "
                             f"got {value!r}") from None
        if key == "units":
            fields["units"] = parsed
        else:
            options.append((key, parsed))
    own = ZOO_KINDS[kind].flavors
    if "flavor" not in fields and flavor in own:
        fields["flavor"] = flavor
    elif "flavor" not in fields and flavor != DEFAULT_FLAVOR and flavor in FLAVORS:
        raise SettingsError(f"cell {kind} has no {flavor} form (its authors' {_framework(ZOO_KINDS[kind])} code "
                            f"defines it); its flavours: {', '.join(own)}. Leave --flavor at {DEFAULT_FLAVOR} to let "
                            f"each such cell use its own, or give {kind}:flavor={own[0]}", "flavor")
    return ZooCell(kind, options=tuple(options), label=spec if items else None, **fields)
