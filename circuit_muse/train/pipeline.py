"""The progressive (Q)LoRA pipeline: stages run in order, each continuing the previous stage's adapter.

Why a small loop and not transformers.Trainer: the stage chain, the completion-only token-weighted loss
across gradient accumulation, and exact mid-stage resume (adapter, optimizer, scheduler, RNG and data
position) are each a few lines here, behave the same on transformers 5.17 (the GPU machine) and 5.23,
and need no trl. Nothing here prints; progress goes to the `on_event` callback and to logging.

Output folder::

    run_state.json                 fingerprint of the config and data; which stages are complete
    <stage>/checkpoints/step-N/    adapter + optimizer/scheduler/RNG + progress.json (deleted when the stage ends)
    <stage>/adapter/               the stage's adapter + tokenizer (loadable on its own)
    <stage>/stage_result.json      written last: the stage is complete
    final/                         last stage's adapter + tokenizer + chat template + circuit_muse_train.json

Resume (resume=True): complete stages are skipped, the next one restarts from its newest complete
checkpoint (or from the previous stage's adapter), and the result equals an uninterrupted run's.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import InputError, ModelError
from .collate import IGNORE_INDEX, Collator, Encoded, encode_record
from .config import Hyper, StageSettings, TrainConfig
from .formatting import SYSTEM_PROMPT
from .records import Record, read_records

log = logging.getLogger(__name__)

RUN_STATE = "run_state.json"
MANIFEST = "circuit_muse_train.json"
FINAL_DIR = "final"
STAGE_RESULT = "stage_result.json"
PROGRESS = "progress.json"
MANIFEST_FORMAT = "circuit_muse.train/1"
# Files of a VL base that make the final folder a complete processor folder too.
_PROCESSOR_FILES = ("preprocessor_config.json", "video_preprocessor_config.json", "chat_template.json")


@dataclass(frozen=True)
class TrainEvent:
    """Progress report. kind: stage_start, stage_skip, resume, eval, step, checkpoint, stage_end, done."""

    kind: str
    stage: str = ""
    step: int = 0
    total_steps: int = 0
    data: dict[str, Any] = field(default_factory=dict)


EventCallback = Callable[[TrainEvent], None]


@dataclass(frozen=True)
class StagePlan:
    index: int  # 1-based position in the run
    name: str
    data_stages: tuple[int, ...]
    n_train: int
    n_eval: int
    steps: int
    hyper: Hyper


@dataclass(frozen=True)
class TrainPlan:
    config: TrainConfig
    stages: tuple[StagePlan, ...]
    device: str
    quantization: str
    trainable_params: int | None
    total_params: int | None
    params_note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "base_model": self.config.model.base,
            "output_dir": self.config.run.output_dir,
            "device": self.device,
            "quantization": self.quantization,
            "lora": asdict(self.config.lora),
            "trainable_params": self.trainable_params,
            "total_params": self.total_params,
            "params_note": self.params_note,
            "stages": [{"index": s.index, "name": s.name, "data_stages": list(s.data_stages), "n_train": s.n_train,
                        "n_eval": s.n_eval, "steps": s.steps, **asdict(s.hyper)} for s in self.stages],
        }


@dataclass(frozen=True)
class StageResult:
    name: str
    data_stages: tuple[int, ...]
    n_train: int
    n_eval: int
    n_skipped_too_long: int
    n_truncated: int
    steps: int
    train_losses: tuple[float, ...]
    eval_losses: tuple[tuple[int, float], ...]  # (step, loss); step 0 = before training
    seconds: float
    tokens_per_second: float

    @property
    def eval_loss_before(self) -> float | None:
        return self.eval_losses[0][1] if self.eval_losses else None

    @property
    def eval_loss_after(self) -> float | None:
        return self.eval_losses[-1][1] if self.eval_losses else None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["data_stages"] = list(self.data_stages)
        d["train_losses"] = list(self.train_losses)
        d["eval_losses"] = [list(x) for x in self.eval_losses]
        d["train_loss_first"] = self.train_losses[0] if self.train_losses else None
        d["train_loss_last"] = self.train_losses[-1] if self.train_losses else None
        d["eval_loss_before"] = self.eval_loss_before
        d["eval_loss_after"] = self.eval_loss_after
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StageResult:
        return cls(name=d["name"], data_stages=tuple(d["data_stages"]), n_train=d["n_train"], n_eval=d["n_eval"],
                   n_skipped_too_long=d["n_skipped_too_long"], n_truncated=d["n_truncated"], steps=d["steps"],
                   train_losses=tuple(d["train_losses"]),
                   eval_losses=tuple((int(s), float(v)) for s, v in d["eval_losses"]),
                   seconds=d["seconds"], tokens_per_second=d["tokens_per_second"])


@dataclass(frozen=True)
class TrainResult:
    output_dir: Path
    final_dir: Path
    stages: tuple[StageResult, ...]
    trainable_params: int
    total_params: int
    skipped_stages: tuple[str, ...] = ()


# ----------------------------------------------------------------------------------------------- data


def select_records(records: Sequence[Record], stage: StageSettings, tasks: Sequence[str]) -> list[Record]:
    return [r for r in records if r.stage in stage.data_stages and r.task in tasks]


def split_eval(records: Sequence[Record], eval_fraction: float) -> tuple[list[Record], list[Record]]:
    """Hold out round(eval_fraction * n) records (at least 1 when n >= 2), chosen by a hash of the id."""
    if eval_fraction <= 0 or len(records) < 2:
        return list(records), []
    n_eval = min(len(records) - 1, max(1, round(eval_fraction * len(records))))
    ranked = sorted(records, key=lambda r: hashlib.sha256(r.id.encode()).hexdigest())
    held = {r.id for r in ranked[:n_eval]}
    return [r for r in records if r.id not in held], [r for r in records if r.id in held]


def _stage_splits(cfg: TrainConfig) -> list[tuple[StageSettings, list[Record], list[Record]]]:
    train_recs = read_records(cfg.data.train)
    eval_recs = read_records(cfg.data.eval) if cfg.data.eval else None
    if eval_recs is not None:
        overlap = sorted({r.id for r in train_recs} & {r.id for r in eval_recs})
        if overlap:
            raise InputError(f"[data] eval files share {len(overlap)} id(s) with the train files, e.g. {overlap[:3]}")
    out = []
    for st in cfg.stages:
        picked = select_records(train_recs, st, cfg.data.tasks)
        if eval_recs is None:
            tr, ev = split_eval(picked, cfg.data.eval_fraction)
        else:
            tr, ev = picked, select_records(eval_recs, st, cfg.data.tasks)
        if not tr:
            raise InputError(f"stage {st.name!r} has no training records (data_stages {list(st.data_stages)}, "
                             f"tasks {list(cfg.data.tasks)}) in {list(cfg.data.train)}")
        out.append((st, tr, ev))
    return out


def steps_for(n_train: int, hyper: Hyper) -> int:
    micro = math.ceil(n_train / hyper.batch_size)
    per_epoch = math.ceil(micro / hyper.grad_accum)
    return hyper.max_steps if hyper.max_steps > 0 else hyper.epochs * per_epoch


def _windows(n_train: int, hyper: Hyper, seed: int) -> Iterator[list[list[int]]]:
    """Endless stream of optimizer-step windows (lists of micro-batches of record indices).

    Window k is a pure function of (n_train, hyper, seed, k), which is what makes resume exact.
    """
    import torch

    epoch = 0
    while True:
        g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
        order = torch.randperm(n_train, generator=g).tolist()
        micro = [order[i:i + hyper.batch_size] for i in range(0, n_train, hyper.batch_size)]
        for w in range(0, len(micro), hyper.grad_accum):
            yield micro[w:w + hyper.grad_accum]
        epoch += 1


# ----------------------------------------------------------------------------------------------- plan


def make_plan(cfg: TrainConfig, *, estimate_params: bool = True) -> TrainPlan:
    """What a run would do: per-stage record counts and steps, device, and trainable parameters.

    Parameters are counted on the meta device (no weights are read); that needs the base's config.json.
    """
    from .qlora import estimate_parameters, resolve_device, resolve_quantization

    splits = _stage_splits(cfg)
    device = resolve_device(cfg.model.device)
    quant = resolve_quantization(cfg.model.quantization, device)
    stages = tuple(StagePlan(index=i, name=st.name, data_stages=st.data_stages, n_train=len(tr), n_eval=len(ev),
                             steps=steps_for(len(tr), st.hyper), hyper=st.hyper)
                   for i, (st, tr, ev) in enumerate(splits, start=1))
    trainable = total = None
    note = ""
    if estimate_params:
        try:
            pc = estimate_parameters(cfg.model, cfg.lora)
            trainable, total = pc.trainable, pc.total
        except InputError as exc:
            note = f"parameter count unavailable: {exc}"
    return TrainPlan(config=cfg, stages=stages, device=device, quantization=quant, trainable_params=trainable,
                     total_params=total, params_note=note)


# ----------------------------------------------------------------------------------------------- steps


def forward_backward(model: Any, micro_batches: Sequence[dict[str, Any]], *, device: str,
                     autocast_dtype: Any = None, backward: bool = True) -> tuple[float, int, int]:
    """One optimizer step's worth of forward/backward passes; gradients accumulate in the parameters.

    The loss is the mean over every answer token in the window (not a mean of per-batch means), so
    padding and uneven lengths do not reweight examples. Returns (mean loss, answer tokens, all tokens).
    """
    import torch
    import torch.nn.functional as F

    n_items = sum(int((b["labels"][:, 1:] != IGNORE_INDEX).sum()) for b in micro_batches)
    n_tokens = sum(int(b["attention_mask"].sum()) for b in micro_batches)
    if n_items == 0:
        return float("nan"), 0, n_tokens
    total = 0.0
    ctx = (lambda: torch.autocast(device_type=device, dtype=autocast_dtype)) if autocast_dtype is not None \
        else contextlib.nullcontext
    for b in micro_batches:
        ids = b["input_ids"].to(device)
        mask = b["attention_mask"].to(device)
        labels = b["labels"].to(device)
        with ctx():
            logits = model(input_ids=ids, attention_mask=mask, use_cache=False).logits
        loss_sum = F.cross_entropy(logits[:, :-1].float().reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1),
                                   ignore_index=IGNORE_INDEX, reduction="sum")
        loss = loss_sum / n_items
        if backward:
            loss.backward()
        total += float(loss_sum.detach())
        del logits, loss_sum, loss
    return total / n_items, n_items, n_tokens


def evaluate(model: Any, examples: Sequence[Encoded], collator: Collator, *, batch_size: int, device: str,
             autocast_dtype: Any = None) -> float | None:
    """Mean answer-token loss over examples (dropout off); None when there is nothing to evaluate."""
    import torch

    if not examples:
        return None
    was_training = model.training
    model.eval()
    total, items = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(examples), batch_size):
            loss, n, _ = forward_backward(model, [collator(examples[i:i + batch_size])], device=device,
                                          autocast_dtype=autocast_dtype, backward=False)
            if n:
                total += loss * n
                items += n
    if was_training:
        model.train()
    return total / items if items else None


def lr_lambda(total_steps: int, hyper: Hyper) -> Callable[[int], float]:
    warmup = math.ceil(hyper.warmup_ratio * total_steps)

    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total_steps - warmup)
        if hyper.lr_scheduler == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
        if hyper.lr_scheduler == "linear":
            return max(0.0, 1.0 - progress)
        return 1.0

    return f


# ----------------------------------------------------------------------------------------------- files


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _file_digest(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def _run_identity(cfg: TrainConfig) -> dict[str, Any]:
    return {"config_fingerprint": cfg.fingerprint(),
            "data": {p: _file_digest(p) for p in (*cfg.data.train, *cfg.data.eval)}}


def _checkpoints(stage_dir: Path) -> list[Path]:
    ck = stage_dir / "checkpoints"
    if not ck.is_dir():
        return []
    done = [p for p in ck.iterdir()
            if p.is_dir() and p.name.startswith("step-") and p.name[5:].isdigit() and (p / PROGRESS).is_file()]
    return sorted(done, key=lambda p: int(p.name.split("-")[1]))


def _versions() -> dict[str, str]:
    import peft
    import torch
    import transformers

    return {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__}


# ----------------------------------------------------------------------------------------------- run


def run_training(cfg: TrainConfig, *, resume: bool = False, on_event: EventCallback | None = None) -> TrainResult:
    """Run every stage of cfg and write the final adapter folder.

    Raises:
        InputError: bad data, an output folder holding another run (or one that needs resume=True).
        ModelError: the model cannot be loaded or the loss became NaN/inf.
    """
    import torch

    from .qlora import add_new_adapter, add_saved_adapter, count_parameters, load_model_for_training, load_tokenizer

    emit = on_event or (lambda _e: None)
    out = Path(cfg.run.output_dir)
    splits = _stage_splits(cfg)
    identity = _run_identity(cfg)
    state_path = out / RUN_STATE
    # A run counts as started once a stage has a checkpoint or a result; a run that failed before that
    # (a wrong base path, say) is simply started again.
    started = any((out / st.name / STAGE_RESULT).is_file() or _checkpoints(out / st.name) for st in cfg.stages)
    if state_path.is_file() and started:
        prev = json.loads(state_path.read_text(encoding="utf-8"))
        if not resume:
            raise InputError(f"{out} already holds a training run; pass --resume to continue it or choose another "
                             "--output")
        if prev.get("identity") != identity:
            old_fp = prev.get("identity", {}).get("config_fingerprint")
            raise InputError(f"{out} holds a run with a different config or data (fingerprint {old_fp} vs "
                             f"{identity['config_fingerprint']}); resume only with the same config and data "
                             "files, or choose another --output")
    out.mkdir(parents=True, exist_ok=True)
    _write_json(state_path, {"identity": identity, "config": cfg.to_dict(), "source": cfg.source,
                             "updated": datetime.now(UTC).isoformat(timespec="seconds")})

    done: list[StageResult] = []
    for st, _tr, _ev in splits:
        f = out / st.name / STAGE_RESULT
        if resume and f.is_file():
            done.append(StageResult.from_dict(json.loads(f.read_text(encoding="utf-8"))))
        else:
            break
    skipped = tuple(s.name for s in done)
    for s in done:
        emit(TrainEvent("stage_skip", stage=s.name, step=s.steps, total_steps=s.steps))

    tokenizer = load_tokenizer(cfg.model.tokenizer or cfg.model.base)
    collator = Collator(pad_token_id=int(tokenizer.pad_token_id))
    results = list(done)
    peft_model = None
    loaded = None
    params = None
    for index, (st, tr_recs, ev_recs) in enumerate(splits, start=1):
        if index <= len(done):
            continue
        if loaded is None:
            loaded = load_model_for_training(cfg.model)
            torch.manual_seed(cfg.run.seed)
            if done:
                peft_model = add_saved_adapter(loaded.model, out / done[-1].name / "adapter", trainable=True)
            else:
                peft_model = add_new_adapter(loaded.model, cfg.lora)
            params = count_parameters(peft_model)
        result = _train_stage(cfg, index, st, tr_recs, ev_recs, peft_model, loaded, tokenizer, collator, out,
                              resume=resume, emit=emit)
        results.append(result)

    if params is None:  # every stage was already complete: count on the meta device
        from .qlora import estimate_parameters

        params = estimate_parameters(cfg.model, cfg.lora)
    final = _write_final(cfg, out, results, params, loaded)
    emit(TrainEvent("done", data={"final_dir": str(final)}))
    return TrainResult(output_dir=out, final_dir=final, stages=tuple(results), trainable_params=params.trainable,
                       total_params=params.total, skipped_stages=skipped)


def _train_stage(cfg: TrainConfig, index: int, st: StageSettings, tr_recs: list[Record], ev_recs: list[Record],
                 model: Any, loaded: Any, tokenizer: Any, collator: Collator, out: Path, *, resume: bool,
                 emit: EventCallback) -> StageResult:
    import torch

    from .qlora import load_adapter_weights

    hyper = st.hyper
    stage_dir = out / st.name
    stage_dir.mkdir(parents=True, exist_ok=True)
    max_len = cfg.data.max_length
    enc_tr = [encode_record(tokenizer, r, max_length=max_len) for r in tr_recs]
    enc_ev = [encode_record(tokenizer, r, max_length=max_len) for r in ev_recs]
    train_ex = [e for e in enc_tr if e is not None]
    eval_ex = [e for e in enc_ev if e is not None]
    n_skipped = sum(e is None for e in enc_tr) + sum(e is None for e in enc_ev)
    n_trunc = sum(1 for e in (*train_ex, *eval_ex) if e.truncated)
    if not train_ex:
        raise InputError(f"stage {st.name!r}: every training record's prompt is longer than [data] max_length "
                         f"{max_len}; raise max_length")
    total_steps = steps_for(len(train_ex), hyper)
    seed = cfg.run.seed + 1000 * index
    device, ac = loaded.device, loaded.autocast_dtype

    torch.manual_seed(seed)
    if device == "cuda":
        torch.cuda.manual_seed_all(seed)
    trainable = [p for p in model.parameters() if p.requires_grad]
    if not trainable:
        raise ModelError("the model has no trainable parameters after attaching LoRA")
    optimizer = torch.optim.AdamW(trainable, lr=hyper.learning_rate, weight_decay=hyper.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(total_steps, hyper))

    step = 0
    losses: list[float] = []
    evals: list[tuple[int, float]] = []
    elapsed = 0.0
    tokens = 0
    ckpts = _checkpoints(stage_dir) if resume else []
    if not resume and (stage_dir / "checkpoints").exists():
        shutil.rmtree(stage_dir / "checkpoints")
    if ckpts:
        ck = ckpts[-1]
        prog = json.loads((ck / PROGRESS).read_text(encoding="utf-8"))
        load_adapter_weights(model, ck / "adapter_model.safetensors")
        state = torch.load(ck / "trainer_state.pt", map_location="cpu", weights_only=True)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng_cpu"])
        if device == "cuda" and state.get("rng_cuda") is not None:
            torch.cuda.set_rng_state(state["rng_cuda"])
        step, losses = prog["step"], list(prog["train_losses"])
        evals = [(int(s), float(v)) for s, v in prog["eval_losses"]]
        elapsed, tokens = prog["seconds"], prog["tokens"]
        emit(TrainEvent("resume", stage=st.name, step=step, total_steps=total_steps, data={"checkpoint": str(ck)}))

    emit(TrainEvent("stage_start", stage=st.name, step=step, total_steps=total_steps,
                    data={"index": index, "n_train": len(train_ex), "n_eval": len(eval_ex),
                          "data_stages": list(st.data_stages), "skipped_too_long": n_skipped}))
    model.train()
    if step == 0:
        ev = evaluate(model, eval_ex, collator, batch_size=hyper.batch_size, device=device, autocast_dtype=ac)
        if ev is not None:
            evals.append((0, ev))
            emit(TrainEvent("eval", stage=st.name, step=0, total_steps=total_steps, data={"eval_loss": ev}))

    windows = _windows(len(train_ex), hyper, seed)
    for _ in range(step):  # skip the windows already trained on (index arithmetic only)
        next(windows)
    while step < total_steps:
        t0 = time.perf_counter()
        window = next(windows)
        batches = [collator([train_ex[i] for i in mb]) for mb in window]
        loss, n_items, n_tok = forward_backward(model, batches, device=device, autocast_dtype=ac)
        if not math.isfinite(loss):
            raise ModelError(f"stage {st.name!r} step {step + 1}: loss is {loss}; lower learning_rate or check data")
        if hyper.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], hyper.max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        if device == "cuda":
            torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        elapsed += dt
        tokens += n_tok
        losses.append(loss)
        if step % hyper.log_every == 0 or step == total_steps:
            emit(TrainEvent("step", stage=st.name, step=step, total_steps=total_steps,
                            data={"loss": loss, "lr": scheduler.get_last_lr()[0], "tokens_per_second": n_tok / dt,
                                  "answer_tokens": n_items}))
        if hyper.eval_every and step % hyper.eval_every == 0 and step < total_steps:
            ev = evaluate(model, eval_ex, collator, batch_size=hyper.batch_size, device=device, autocast_dtype=ac)
            if ev is not None:
                evals.append((step, ev))
                emit(TrainEvent("eval", stage=st.name, step=step, total_steps=total_steps, data={"eval_loss": ev}))
        if hyper.save_every and step % hyper.save_every == 0 and step < total_steps:
            ck = _save_checkpoint(stage_dir, step, model, optimizer, scheduler, device,
                                  {"step": step, "total_steps": total_steps, "train_losses": losses,
                                   "eval_losses": evals, "seconds": elapsed, "tokens": tokens})
            for old in _checkpoints(stage_dir)[:-hyper.keep_checkpoints]:
                shutil.rmtree(old)
            emit(TrainEvent("checkpoint", stage=st.name, step=step, total_steps=total_steps, data={"path": str(ck)}))

    ev = evaluate(model, eval_ex, collator, batch_size=hyper.batch_size, device=device, autocast_dtype=ac)
    if ev is not None:
        evals.append((step, ev))
        emit(TrainEvent("eval", stage=st.name, step=step, total_steps=total_steps, data={"eval_loss": ev}))
    adapter_dir = stage_dir / "adapter"
    tmp = stage_dir / "adapter.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    model.save_pretrained(str(tmp))
    tokenizer.save_pretrained(str(tmp))
    if adapter_dir.exists():
        shutil.rmtree(adapter_dir)
    os.replace(tmp, adapter_dir)
    result = StageResult(name=st.name, data_stages=st.data_stages, n_train=len(train_ex), n_eval=len(eval_ex),
                         n_skipped_too_long=n_skipped, n_truncated=n_trunc, steps=step, train_losses=tuple(losses),
                         eval_losses=tuple(evals), seconds=round(elapsed, 3),
                         tokens_per_second=round(tokens / elapsed, 1) if elapsed else 0.0)
    _write_json(stage_dir / STAGE_RESULT, result.to_dict())
    if (stage_dir / "checkpoints").exists():
        shutil.rmtree(stage_dir / "checkpoints")
    emit(TrainEvent("stage_end", stage=st.name, step=step, total_steps=total_steps, data=result.to_dict()))
    return result


def _save_checkpoint(stage_dir: Path, step: int, model: Any, optimizer: Any, scheduler: Any, device: str,
                     progress: dict[str, Any]) -> Path:
    import torch

    final = stage_dir / "checkpoints" / f"step-{step:06d}"
    tmp = final.with_name(final.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    model.save_pretrained(str(tmp))
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "rng_cpu": torch.get_rng_state(),
                "rng_cuda": torch.cuda.get_rng_state() if device == "cuda" else None}, tmp / "trainer_state.pt")
    _write_json(tmp / PROGRESS, progress)  # written last: marks the checkpoint complete
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    return final


def _write_final(cfg: TrainConfig, out: Path, results: Sequence[StageResult], params: Any, loaded: Any) -> Path:
    last = out / results[-1].name / "adapter"
    final = out / FINAL_DIR
    tmp = out / (FINAL_DIR + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    shutil.copytree(last, tmp)
    base = Path(cfg.model.base)
    for name in _PROCESSOR_FILES:
        if (base / name).is_file() and not (tmp / name).exists():
            shutil.copy2(base / name, tmp / name)
    manifest = {
        "format": MANIFEST_FORMAT,
        "base_model": cfg.model.base,
        "model_class": loaded.model_class if loaded else None,
        "device": loaded.device if loaded else None,
        "quantization": loaded.quantization if loaded else None,
        "lora": asdict(cfg.lora),
        "trainable_params": params.trainable,
        "total_params": params.total,
        "system_prompt": SYSTEM_PROMPT,
        "max_length": cfg.data.max_length,
        "stages": [r.to_dict() for r in results],
        "config_fingerprint": cfg.fingerprint(),
        "config": cfg.to_dict(),
        "versions": _versions(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _write_json(tmp / MANIFEST, manifest)
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    return final
