"""4-bit weight-only linear layers on PyTorch's own int4 kernels (``quantization="int4"`` in the hf backend).

Why: bitsandbytes' nf4 is the original project's 4-bit mode, but for decoding it is slow (its matrix-vector
kernel and its per-call dequantisation of the block scales), it is one more binary dependency, and it
dequantises the whole weight for every call with more than one row (several samples). PyTorch itself ships
the "tinygemm" int4 kernel (``torch.ops.aten._weight_int4pack_mm``, the kernel gpt-fast and torchao's int4
weight-only mode call on CUDA); it reads 4-bit weights with bf16 scales and zero points per group of input
columns, for any number of rows up to a tile. No extra package is needed.

Format (asymmetric, per group of ``group_size`` input columns): ``w ~ (q - 8) * scale + zero`` with q in
0..15, which is ``q * scale + min``. On CUDA the weights are packed two to a byte and then into the kernel's
tiled layout by ``_convert_weight_to_int4pack``; on the CPU, ``_convert_weight_to_int4pack_for_cpu`` and
``_weight_int4pack_mm_for_cpu`` take the same scales and zero points (used by the tests).

Quantisation is done at load time from the bf16 weights (round to nearest, min/max per group): no
calibration data, a few seconds for a 7B model on a GPU. This module imports torch: the hf backend imports it
only when it loads a model with ``quantization="int4"``.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import torch

from ..errors import ModelError

__all__ = ["Int4Linear", "dequantize", "quantize_model_int4", "quantize_weight"]

log = logging.getLogger(__name__)

GROUP_SIZES = (128, 64, 32)
INNER_K_TILES = (8, 4, 2)


def layout_for(in_features: int, out_features: int) -> tuple[int, int] | None:
    """(group size, inner k tiles) the kernel accepts for this shape, or None when it takes none."""
    if out_features % 8:
        return None
    group = next((g for g in GROUP_SIZES if in_features % g == 0), None)
    tiles = next((t for t in INNER_K_TILES if in_features % (t * 16) == 0), None)
    if group is None or tiles is None:
        return None
    return group, tiles


def quantize_weight(weight: torch.Tensor, group_size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Round a (out, in) weight to 4 bits per group: (q as int32 0..15, scales, zeros), both (out, groups)."""
    w = weight.detach().float()
    n, k = w.shape
    groups = w.reshape(n, k // group_size, group_size)
    lo = groups.amin(dim=-1, keepdim=True)
    hi = groups.amax(dim=-1, keepdim=True)
    scales = (hi - lo).clamp(min=1e-6) / 15
    q = groups.sub(lo).div(scales).round().clamp(0, 15).to(torch.int32).reshape(n, k)
    zeros = lo + scales * 8
    return q, scales.reshape(n, -1), zeros.reshape(n, -1)


def dequantize(q: torch.Tensor, scales: torch.Tensor, zeros: torch.Tensor, group_size: int) -> torch.Tensor:
    """The float weight that (q, scales, zeros) stand for (for checks and tests)."""
    n, k = q.shape
    g = (q.float() - 8).reshape(n, k // group_size, group_size)
    return (g * scales.float().unsqueeze(-1) + zeros.float().unsqueeze(-1)).reshape(n, k)


def _scales_and_zeros(scales: torch.Tensor, zeros: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    n = scales.shape[0]
    both = torch.cat([scales.reshape(n, -1, 1), zeros.reshape(n, -1, 1)], dim=2)
    return both.transpose(0, 1).contiguous().to(dtype)


class Int4Linear(torch.nn.Module):
    """A ``nn.Linear`` replacement holding 4-bit weights; forward runs PyTorch's int4 matmul kernel."""

    def __init__(self, linear: torch.nn.Linear, group_size: int, inner_k_tiles: int) -> None:
        super().__init__()
        w = linear.weight
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.group_size, self.inner_k_tiles = group_size, inner_k_tiles
        self.compute_dtype = torch.bfloat16
        self.on_cuda = w.device.type == "cuda"
        q, scales, zeros = quantize_weight(w, group_size)
        if self.on_cuda:
            packed = (q[:, ::2] << 4 | q[:, 1::2]).to(torch.uint8)
            weight = torch.ops.aten._convert_weight_to_int4pack(packed.contiguous(), inner_k_tiles)
        else:
            weight = torch.ops.aten._convert_weight_to_int4pack_for_cpu(q.contiguous(), inner_k_tiles)
        self.register_buffer("weight_int4", weight)
        self.register_buffer("scales_and_zeros", _scales_and_zeros(scales, zeros, self.compute_dtype))
        bias = linear.bias
        self.register_buffer("bias", None if bias is None else bias.detach().to(self.compute_dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x2 = x.reshape(-1, self.in_features)
        if x2.dtype != self.compute_dtype:
            x2 = x2.to(self.compute_dtype)
        if self.on_cuda:
            out = torch.ops.aten._weight_int4pack_mm(x2.contiguous(), self.weight_int4, self.group_size,
                                                     self.scales_and_zeros)
        else:
            out = torch.ops.aten._weight_int4pack_mm_for_cpu(x2.contiguous(), self.weight_int4, self.group_size,
                                                             self.scales_and_zeros)
        if self.bias is not None:
            out = out + self.bias
        out = out.reshape(*shape[:-1], self.out_features)
        return out if out.dtype == x.dtype else out.to(x.dtype)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"group_size={self.group_size}, bias={self.bias is not None}")


def _check_layer(layer: Int4Linear, reference: torch.Tensor, name: str) -> float:
    """Relative error of the int4 layer against its own dequantised weight on random rows (catches a
    packing-layout mismatch with the kernel, which would otherwise only show as nonsense output)."""
    gen = torch.Generator(device="cpu").manual_seed(0)
    x = torch.randn(4, layer.in_features, generator=gen).to(device=reference.device, dtype=torch.bfloat16)
    q, scales, zeros = quantize_weight(reference, layer.group_size)
    ref = x.float() @ dequantize(q, scales, zeros, layer.group_size).t()
    if layer.bias is not None:
        ref = ref + layer.bias.float()
    got = layer(x).float()
    err = float((got - ref).norm() / ref.norm().clamp(min=1e-12))
    if not err < 2e-2:
        raise ModelError(f"int4 kernel check failed on {name}: relative error {err:.3g} against the dequantised "
                         "weight (a weight-packing layout this torch build does not expect). Use quantization='none' "
                         "or 'nf4'.")
    return err


def quantize_model_int4(model: Any, *, skip: Callable[[str], bool] | None = None) -> dict[str, Any]:
    """Replace the decoder's nn.Linear layers by Int4Linear in place (the LM head and vision tower stay).

    Returns a summary: layers replaced, layers kept (shape the kernel does not take), bytes of 4-bit weights
    and scales, and the kernel check's relative error on the first layer.
    """
    decoder = model.get_decoder() if hasattr(model, "get_decoder") else model
    replaced, kept, nbytes, check = 0, [], 0, None
    for parent_name, parent in list(decoder.named_modules()):
        for child_name, child in list(parent.named_children()):
            if type(child) is not torch.nn.Linear:
                continue
            full = f"{parent_name}.{child_name}" if parent_name else child_name
            if skip is not None and skip(full):
                continue
            layout = layout_for(child.in_features, child.out_features)
            if layout is None:
                kept.append(full)
                continue
            new = Int4Linear(child, *layout)
            if check is None:
                check = _check_layer(new, child.weight, full)
            setattr(parent, child_name, new)
            nbytes += new.weight_int4.numel() * new.weight_int4.element_size()
            nbytes += new.scales_and_zeros.numel() * new.scales_and_zeros.element_size()
            if new.bias is not None:
                nbytes += new.bias.numel() * new.bias.element_size()
            replaced += 1
            del child
    if replaced == 0:
        raise ModelError("quantization='int4' found no linear layer whose shape the int4 kernel takes.")
    if kept:
        log.info("int4: %d linear layers kept in 16 bits (shape not supported), e.g. %s", len(kept), kept[0])
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return {"replaced": replaced, "kept": len(kept), "int4_bytes": nbytes, "check_relative_error": check}
