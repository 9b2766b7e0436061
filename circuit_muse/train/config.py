"""The training config: one TOML file describes the model, the LoRA, the data and every stage.

Parsing is strict. An unknown key, a wrong type or an out-of-range value raises InputError naming the
file, the table and the valid keys, so a typo never silently falls back to a default.

Layout::

    [run]       output_dir, seed
    [model]     base, tokenizer, quantization, compute_dtype, device, gradient_checkpointing, attn_implementation
    [lora]      r, alpha, dropout, target_modules, exclude_modules
    [data]      train, eval, eval_fraction, max_length, tasks
    [train]     hyper-parameters shared by every stage (see Hyper)
    [[stages]]  name, data_stages, and any [train] key to override it for that stage

Relative paths are resolved against the config file's folder (model.base only when that folder exists
there, so a hub id stays a hub id).
"""
from __future__ import annotations

import hashlib
import json
import re
import tomllib
import types
import typing
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ..errors import InputError
from .records import STAGES, TASKS

QUANTIZATIONS = ("auto", "nf4", "none")
COMPUTE_DTYPES = ("bfloat16", "float16", "float32")
DEVICES = ("auto", "cpu", "cuda")
SCHEDULERS = ("linear", "cosine", "constant")
DEFAULT_TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
_STAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class RunSettings:
    """Where the run writes and the seed everything is derived from."""

    output_dir: str = "runs/circuit_muse"
    seed: int = 42


@dataclass(frozen=True)
class ModelSettings:
    """The base model and how it is loaded for training.

    quantization "auto" means nf4 (QLoRA) on CUDA and none (fp32) on the CPU.
    """

    base: str = ""
    tokenizer: str | None = None
    quantization: str = "auto"
    compute_dtype: str = "bfloat16"
    device: str = "auto"
    gradient_checkpointing: bool = True
    attn_implementation: str | None = None

    def validate(self, where: str) -> None:
        if not self.base:
            raise InputError(f"{where}: [model] base is required (a local model folder or a hub id)")
        _choice(where, "model", "quantization", self.quantization, QUANTIZATIONS)
        _choice(where, "model", "compute_dtype", self.compute_dtype, COMPUTE_DTYPES)
        _choice(where, "model", "device", self.device, DEVICES)


@dataclass(frozen=True)
class LoraSettings:
    """LoRA shape. The defaults reproduce the original CircuitMuse run (47.59M trainable on Qwen2.5-VL-7B).

    target_modules are matched as module-name suffixes (peft's rule). exclude_modules are module-path
    components: "visual" leaves out everything below a module named visual (the Qwen2.5-VL vision tower).
    """

    r: int = 16
    alpha: int = 16
    dropout: float = 0.0
    target_modules: tuple[str, ...] = DEFAULT_TARGET_MODULES
    exclude_modules: tuple[str, ...] = ()

    def validate(self, where: str) -> None:
        if self.r < 1:
            raise InputError(f"{where}: [lora] r must be >= 1, got {self.r}")
        if self.alpha < 1:
            raise InputError(f"{where}: [lora] alpha must be >= 1, got {self.alpha}")
        if not 0.0 <= self.dropout < 1.0:
            raise InputError(f"{where}: [lora] dropout must be in [0, 1), got {self.dropout}")
        if not self.target_modules:
            raise InputError(f"{where}: [lora] target_modules must name at least one module")


@dataclass(frozen=True)
class DataSettings:
    """Which JSONL files feed the run and how the evaluation split is made.

    With no `eval` files, each stage holds out `eval_fraction` of its records (at least one when it has
    two or more), chosen by a hash of the record id so the split is stable across runs and file order.
    """

    train: tuple[str, ...] = ()
    eval: tuple[str, ...] = ()
    eval_fraction: float = 0.1
    max_length: int = 1024
    tasks: tuple[str, ...] = TASKS

    def validate(self, where: str) -> None:
        if not self.train:
            raise InputError(f"{where}: [data] train must name at least one JSONL file")
        if not 0.0 <= self.eval_fraction < 1.0:
            raise InputError(f"{where}: [data] eval_fraction must be in [0, 1), got {self.eval_fraction}")
        if self.max_length < 16:
            raise InputError(f"{where}: [data] max_length must be >= 16, got {self.max_length}")
        bad = [t for t in self.tasks if t not in TASKS]
        if bad or not self.tasks:
            raise InputError(f"{where}: [data] tasks {list(self.tasks)} must be a non-empty subset of {list(TASKS)}")


@dataclass(frozen=True)
class Hyper:
    """Optimisation settings for one stage ([train] gives the defaults, each [[stages]] may override).

    One optimizer step uses batch_size * grad_accum records. max_steps > 0 fixes the step count and
    overrides epochs. eval_every / save_every count optimizer steps; 0 means only at the stage's end.
    """

    epochs: int = 1
    max_steps: int = 0
    batch_size: int = 1
    grad_accum: int = 8
    learning_rate: float = 2e-4
    lr_scheduler: str = "linear"
    warmup_ratio: float = 0.03
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    eval_every: int = 0
    save_every: int = 50
    keep_checkpoints: int = 2
    log_every: int = 1

    def validate(self, where: str, table: str) -> None:
        for name in ("epochs", "batch_size", "grad_accum", "log_every", "keep_checkpoints"):
            if getattr(self, name) < 1:
                raise InputError(f"{where}: [{table}] {name} must be >= 1, got {getattr(self, name)}")
        for name in ("max_steps", "eval_every", "save_every", "weight_decay", "max_grad_norm"):
            if getattr(self, name) < 0:
                raise InputError(f"{where}: [{table}] {name} must be >= 0, got {getattr(self, name)}")
        if self.learning_rate <= 0:
            raise InputError(f"{where}: [{table}] learning_rate must be > 0, got {self.learning_rate}")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise InputError(f"{where}: [{table}] warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        _choice(where, table, "lr_scheduler", self.lr_scheduler, SCHEDULERS)


@dataclass(frozen=True)
class StageSettings:
    """One progressive stage: a name (its folder), which record stages it trains on, and its hyper-parameters."""

    name: str
    data_stages: tuple[int, ...]
    hyper: Hyper


@dataclass(frozen=True)
class TrainConfig:
    run: RunSettings
    model: ModelSettings
    lora: LoraSettings
    data: DataSettings
    train: Hyper
    stages: tuple[StageSettings, ...]
    source: str = field(default="<memory>", compare=False)

    def with_output_dir(self, output_dir: str | Path) -> TrainConfig:
        return replace(self, run=replace(self.run, output_dir=str(Path(output_dir).expanduser().resolve())))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("source", None)
        return d

    def fingerprint(self) -> str:
        """Hash of everything that changes what is trained (the output folder excluded)."""
        d = self.to_dict()
        d["run"].pop("output_dir", None)
        for st in d["stages"]:  # logging cadence does not change the result
            st["hyper"].pop("log_every", None)
        d["train"].pop("log_every", None)
        return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]


_TOP_LEVEL = {"run": RunSettings, "model": ModelSettings, "lora": LoraSettings, "data": DataSettings,
              "train": Hyper, "stages": None}


def load_config(path: str | Path) -> TrainConfig:
    """Read and validate a training TOML file.

    Raises:
        InputError: the file is missing, is not TOML, or has an unknown key / bad value.
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise InputError(f"training config {str(p)!r} not found")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: not valid TOML: {exc}") from exc
    return config_from_mapping(raw, base_dir=p.resolve().parent, where=str(p))


def config_from_mapping(raw: dict[str, Any], *, base_dir: str | Path = ".", where: str = "<config>") -> TrainConfig:
    """Build a TrainConfig from an already-parsed mapping (the TOML tables)."""
    base = Path(base_dir)
    unknown = sorted(set(raw) - set(_TOP_LEVEL))
    if unknown:
        raise InputError(f"{where}: unknown table(s) {unknown}; valid tables: {sorted(_TOP_LEVEL)}")
    run = _build(RunSettings, raw.get("run", {}), where, "run")
    model = _build(ModelSettings, raw.get("model", {}), where, "model")
    lora = _build(LoraSettings, raw.get("lora", {}), where, "lora")
    data = _build(DataSettings, raw.get("data", {}), where, "data")
    hyper = _build(Hyper, raw.get("train", {}), where, "train")

    model.validate(where)
    lora.validate(where)
    data.validate(where)
    hyper.validate(where, "train")

    run = replace(run, output_dir=str(_resolve(base, run.output_dir)))
    model = replace(model, base=_resolve_model_ref(base, model.base),
                    tokenizer=_resolve_model_ref(base, model.tokenizer) if model.tokenizer else None)
    data = replace(data, train=tuple(str(_resolve(base, t)) for t in data.train),
                   eval=tuple(str(_resolve(base, t)) for t in data.eval))

    stages = _build_stages(raw.get("stages"), hyper, where)
    return TrainConfig(run=run, model=model, lora=lora, data=data, train=hyper, stages=stages, source=where)


def _build_stages(raw: Any, defaults: Hyper, where: str) -> tuple[StageSettings, ...]:
    if raw is None:
        raise InputError(f"{where}: no [[stages]] tables; add one per stage (name = ..., data_stages = [1])")
    if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw) or not raw:
        raise InputError(f"{where}: 'stages' must be an array of tables written as [[stages]]")
    hyper_keys = {f.name for f in fields(Hyper)}
    valid = sorted({"name", "data_stages"} | hyper_keys)
    out: list[StageSettings] = []
    seen: set[str] = set()
    for i, st in enumerate(raw, start=1):
        table = f"stages #{i}"
        unknown = sorted(set(st) - set(valid))
        if unknown:
            raise InputError(f"{where}: unknown key(s) {unknown} in [[stages]] #{i}; valid keys: {valid}")
        name = st.get("name", f"stage{i}")
        if not isinstance(name, str) or not _STAGE_NAME.match(name):
            raise InputError(f"{where}: [[stages]] #{i} name {name!r} must be letters, digits, '.', '_' or '-'")
        if name in seen:
            raise InputError(f"{where}: [[stages]] #{i} name {name!r} is used twice; stage names must be unique")
        seen.add(name)
        ds = _coerce(st.get("data_stages", [i]), tuple[int, ...], where, table, "data_stages")
        bad = [s for s in ds if s not in STAGES]
        if bad or not ds:
            raise InputError(f"{where}: [[stages]] #{i} data_stages {list(ds)} must be a non-empty subset of "
                             f"{list(STAGES)}")
        overrides = {k: v for k, v in st.items() if k in hyper_keys}
        hyper = _build(Hyper, {**asdict(defaults), **overrides}, where, table)
        hyper.validate(where, table)
        out.append(StageSettings(name=name, data_stages=ds, hyper=hyper))
    return tuple(out)


def _build(cls: Any, raw: Any, where: str, table: str) -> Any:
    if not isinstance(raw, dict):
        raise InputError(f"{where}: [{table}] must be a table")
    hints = typing.get_type_hints(cls)
    valid = sorted(f.name for f in fields(cls))
    unknown = sorted(set(raw) - set(valid))
    if unknown:
        raise InputError(f"{where}: unknown key(s) {unknown} in [{table}]; valid keys: {valid}")
    kwargs = {k: _coerce(v, hints[k], where, table, k) for k, v in raw.items()}
    return cls(**kwargs)


def _coerce(value: Any, tp: Any, where: str, table: str, key: str) -> Any:
    """Check one TOML value against a field type (str, int, float, bool, X | None, tuple[X, ...])."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _coerce(value, args[0], where, table, key)
    if origin is tuple:
        inner = typing.get_args(tp)[0]
        if inner is str and isinstance(value, str):  # one string where a list is expected
            value = [value]
        if not isinstance(value, list):
            raise InputError(f"{where}: [{table}] {key} must be a list, got {type(value).__name__} {value!r}")
        return tuple(_coerce(v, inner, where, table, key) for v in value)
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, (int, float)) and not isinstance(value, bool),
        str: isinstance(value, str),
    }.get(tp)
    if ok is None:  # pragma: no cover - a field type this parser does not know
        raise TypeError(f"unsupported config field type {tp!r}")
    if not ok:
        raise InputError(f"{where}: [{table}] {key} must be {tp.__name__}, got {type(value).__name__} {value!r}")
    return float(value) if tp is float else value


def _choice(where: str, table: str, key: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InputError(f"{where}: [{table}] {key} {value!r} is not one of {list(choices)}")


def _resolve(base: Path, p: str) -> Path:
    q = Path(p).expanduser()
    return q if q.is_absolute() else (base / q).resolve()


def _resolve_model_ref(base: Path, ref: str) -> str:
    q = Path(ref).expanduser()
    if q.is_absolute():
        return str(q)
    local = base / q
    if local.exists() or ref.startswith(("./", "../")):
        return str(local.resolve())
    return ref  # a hub id such as "Qwen/Qwen2.5-VL-7B-Instruct"
