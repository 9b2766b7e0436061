"""Tiny local models, built in seconds with no downloads, saved the way users' folders look.

`tiny_models()` builds every folder shape the hf backend must load, once per process, into a temporary
directory that is removed at exit:

- ``qwen2``: a full Qwen2 causal LM with its tokenizer (chat template saved by the tokenizer);
- ``qwen2_json_template``: the same weights, but the tokenizer has no template and the folder holds
  ``chat_template.json`` (the file VL processors write, which ``AutoTokenizer`` ignores);
- ``qwen2_lora``: a LoRA adapter whose ``base_model_name_or_path`` is the local ``qwen2`` folder;
- ``qwen2_lora_hub_base``: a LoRA adapter naming a hub id as its base and holding no tokenizer (needs the
  ``base_model`` override);
- ``qwen2_merged``: ``qwen2_lora`` merged into its base and saved as a plain model;
- ``qwen25vl``: a full Qwen2.5-VL (image-text-to-text) model, template in ``chat_template.json``;
- ``qwen_verilog_stage4_final``: an Unsloth-style QLoRA adapter folder for ``qwen25vl``, like the original
  CircuitMuse weights: hub-id base, regex ``target_modules`` that also catch the vision tower, keys in the
  pre-4.52 layout (``base_model.model.model.layers...`` / ``base_model.model.visual...``), tokenizer files,
  ``chat_template.json`` and a README;
- ``qwen25vl_merged``: that adapter merged into its base.

Every LoRA is initialised with random (non-zero) B matrices so that it really changes the logits.
"""
from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

# The shape of Qwen2.5-VL's template: content may be a string or a list of typed parts.
VL_CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'text' %}{{ part['text'] }}"
    "{% elif part['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
]

VERILOG_CORPUS = [
    "module counter(input clk, input rst, output reg [3:0] q);\n"
    "  always @(posedge clk) begin\n    if (rst) q <= 4'd0;\n    else q <= q + 4'd1;\n  end\nendmodule\n",
    "module mux2(input a, input b, input sel, output y);\n  assign y = sel ? b : a;\nendmodule\n",
    "module adder #(parameter W = 8) (input [W-1:0] a, b, output [W:0] s);\n  assign s = a + b;\nendmodule\n",
    "module dff(input clk, input d, output reg q);\n  always @(posedge clk) q <= d;\nendmodule\n",
    "Write a Verilog module for a 4-bit counter with synchronous reset.",
    "You are a hardware engineer. Write synthesizable Verilog-2001 only.",
    "The lint error is on line 3: unexpected token. Fix the design and return the whole module.",
    "```verilog\nmodule top(input wire clk, output wire led);\nendmodule\n```",
    "wire [7:0] data; reg valid; localparam IDLE = 2'b00, RUN = 2'b01; case (state) default: ; endcase",
]

TEXT_SIZES = dict(
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=1024,
    rms_norm_eps=1e-6,
)
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
# What Unsloth writes for vision models: a regex over module names, which also matches the vision tower's MLPs.
UNSLOTH_TARGET_REGEX = (
    r"(?:.*?(?:vision|image|visual|patch|language|text).*?(?:self_attn|attn|attention|mlp|feed_forward|ffn|dense)"
    r".*?(?:q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj).*?)|(?:\bmodel\.layers\.[\d]{1,}\."
    r"(?:self_attn|attn|attention|mlp|feed_forward|ffn|dense)\.(?:q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|"
    r"down_proj))"
)
HUB_BASE_QWEN2 = "Qwen/Qwen2.5-Coder-0.5B-Instruct"
HUB_BASE_VL = "unsloth/qwen2.5-vl-7b-instruct-unsloth-bnb-4bit"


@dataclass(frozen=True)
class TinyModels:
    root: Path
    tokenizer: Path
    qwen2: Path
    qwen2_json_template: Path
    qwen2_lora: Path
    qwen2_lora_hub_base: Path
    qwen2_merged: Path
    qwen25vl: Path
    qwen_verilog_stage4_final: Path
    qwen25vl_merged: Path


_lock = threading.Lock()
_built: TinyModels | None = None


def tiny_models() -> TinyModels:
    """Build every tiny folder once per process (about 5-10 s on two cores) and return their paths."""
    global _built
    with _lock:
        if _built is None:
            root = Path(tempfile.mkdtemp(prefix="circuit_muse_tiny_models_"))
            atexit.register(shutil.rmtree, root, True)
            _built = build_all(root)
        return _built


def build_tokenizer(folder: Path, *, chat_template: str | None = CHATML_TEMPLATE):
    """Train a byte-level BPE on a few Verilog strings and save it as a Qwen-like fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=512,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(VERILOG_CORPUS * 4, trainer)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=SPECIAL_TOKENS[3:],
        clean_up_tokenization_spaces=False,
        model_max_length=1024,
    )
    if chat_template is not None:
        tok.chat_template = chat_template
    tok.padding_side = "left"
    folder.mkdir(parents=True, exist_ok=True)
    tok.save_pretrained(folder)
    return tok


def _ids(tok) -> dict[str, int]:
    return {t: tok.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}


def _seed(seed: int) -> None:
    import torch

    torch.manual_seed(seed)


def build_qwen2(folder: Path, tok) -> None:
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    ids = _ids(tok)
    cfg = Qwen2Config(
        vocab_size=len(tok),
        bos_token_id=ids["<|endoftext|>"],
        eos_token_id=ids["<|im_end|>"],
        pad_token_id=ids["<|endoftext|>"],
        tie_word_embeddings=False,
        **TEXT_SIZES,
    )
    _seed(1)
    model = Qwen2ForCausalLM(cfg).eval()
    model.generation_config = GenerationConfig(
        bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"]
    )
    model.save_pretrained(folder)
    tok.save_pretrained(folder)


def build_qwen25vl(folder: Path, tok) -> None:
    from transformers import GenerationConfig, Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    ids = _ids(tok)
    head_dim = TEXT_SIZES["hidden_size"] // TEXT_SIZES["num_attention_heads"]
    text_config = dict(
        TEXT_SIZES,
        vocab_size=len(tok),
        bos_token_id=ids["<|endoftext|>"],
        eos_token_id=ids["<|im_end|>"],
        pad_token_id=ids["<|endoftext|>"],
        rope_parameters={"rope_type": "default", "mrope_section": [2, 2, head_dim // 2 - 4], "rope_theta": 1e6},
    )
    cfg = Qwen2_5_VLConfig(
        text_config=text_config,
        vision_config=dict(
            depth=1, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64, fullatt_block_indexes=[0]
        ),
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=False,
    )
    _seed(2)
    model = Qwen2_5_VLForConditionalGeneration(cfg).eval()
    model.generation_config = GenerationConfig(
        bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"]
    )
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    _move_template_to_json(folder, VL_CHAT_TEMPLATE)


def _move_template_to_json(folder: Path, template: str) -> None:
    """Leave the chat template only in chat_template.json, the way VL processors save it."""
    (folder / "chat_template.jinja").unlink(missing_ok=True)
    cfg_path = folder / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg.pop("chat_template", None)
    cfg_path.write_text(json.dumps(cfg, indent=2))
    (folder / "chat_template.json").write_text(json.dumps({"chat_template": template}, indent=2))


def _copy_tokenizer_files(src: Path, dst: Path) -> None:
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
                 "chat_template.json"):
        if (src / name).exists():
            shutil.copy2(src / name, dst / name)


def _lora(model, target_modules, seed: int, r: int = 8):
    import warnings

    from peft import LoraConfig, get_peft_model

    _seed(seed)
    cfg = LoraConfig(
        r=r, lora_alpha=16, target_modules=target_modules, lora_dropout=0.0, init_lora_weights=False,
        task_type="CAUSAL_LM",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # peft 0.21 calls a deprecated transformers 5 property
        return get_peft_model(model, cfg)


def build_qwen2_lora(folder: Path, base: Path, *, base_name: str | None = None, with_tokenizer: bool = True,
                     seed: int = 3) -> None:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base, local_files_only=True)
    peft_model = _lora(model, LORA_TARGETS, seed)
    peft_model.save_pretrained(folder)
    cfg_path = folder / "adapter_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["base_model_name_or_path"] = base_name if base_name is not None else str(base)
    cfg_path.write_text(json.dumps(cfg, indent=2))
    if with_tokenizer:
        _copy_tokenizer_files(base, folder)


def build_merged(folder: Path, base: Path, adapter: Path, *, auto_class: str) -> None:
    import transformers

    cls = getattr(transformers, auto_class)
    model = cls.from_pretrained(base, local_files_only=True)
    model.load_adapter(str(adapter), adapter_kwargs={"local_files_only": True})
    # load_adapter injects LoRA layers in place; merge them into the base weights.
    from peft.tuners.tuners_utils import BaseTunerLayer

    for module in model.modules():
        if isinstance(module, BaseTunerLayer):
            module.merge()
    # Strip the LoRA wrappers by re-wrapping in PeftModel-free form: copy merged base weights into a fresh model.
    fresh = cls.from_pretrained(base, local_files_only=True)
    merged_state = {}
    for name, module in model.named_modules():
        if isinstance(module, BaseTunerLayer):
            merged_state[name + ".weight"] = module.get_base_layer().weight.detach().clone()
    missing = fresh.load_state_dict(merged_state, strict=False)
    assert not missing.unexpected_keys, missing.unexpected_keys[:5]
    fresh.save_pretrained(folder)
    _copy_tokenizer_files(base, folder)
    for name in ("generation_config.json",):
        if (base / name).exists():
            shutil.copy2(base / name, folder / name)


def build_unsloth_vl_adapter(folder: Path, base: Path, *, seed: int = 4) -> None:
    """An adapter folder shaped like the original `qwen_verilog_stage4_final/` (Unsloth, pre-4.52 key layout)."""
    import torch
    from safetensors.torch import load_file, save_file
    from transformers import AutoModelForImageTextToText

    model = AutoModelForImageTextToText.from_pretrained(base, local_files_only=True)
    peft_model = _lora(model, UNSLOTH_TARGET_REGEX, seed, r=8)
    peft_model.save_pretrained(folder)
    weights = load_file(folder / "adapter_model.safetensors")
    renamed: dict[str, torch.Tensor] = {}
    for key, value in weights.items():
        # transformers >= 4.52 layout -> the layout Unsloth/transformers 4.49-4.51 wrote.
        old = key.replace("base_model.model.model.language_model.", "base_model.model.model.")
        old = old.replace("base_model.model.model.visual.", "base_model.model.visual.")
        renamed[old] = value.contiguous()
    assert any(".visual." in k for k in renamed), "the regex should catch the vision tower's MLPs"
    save_file(renamed, folder / "adapter_model.safetensors", metadata={"format": "pt"})
    adapter_config = {
        "alpha_pattern": {},
        "auto_mapping": {
            "base_model_class": "Qwen2_5_VLForConditionalGeneration",
            "parent_library": "transformers.models.qwen2_5_vl.modeling_qwen2_5_vl",
            "unsloth_fixed": True,
        },
        "base_model_name_or_path": HUB_BASE_VL,
        "bias": "none",
        "corda_config": None,
        "eva_config": None,
        "exclude_modules": None,
        "fan_in_fan_out": False,
        "inference_mode": True,
        "init_lora_weights": True,
        "layer_replication": None,
        "layers_pattern": None,
        "layers_to_transform": None,
        "loftq_config": {},
        "lora_alpha": 16,
        "lora_bias": False,
        "lora_dropout": 0,
        "megatron_config": None,
        "megatron_core": "megatron.core",
        "modules_to_save": None,
        "peft_type": "LORA",
        "r": 8,
        "rank_pattern": {},
        "revision": None,
        "target_modules": UNSLOTH_TARGET_REGEX,
        "task_type": "CAUSAL_LM",
        "trainable_token_indices": None,
        "use_dora": False,
        "use_rslora": False,
    }
    (folder / "adapter_config.json").write_text(json.dumps(adapter_config, indent=2))
    _copy_tokenizer_files(base, folder)
    (folder / "preprocessor_config.json").write_text(json.dumps({"image_processor_type": "Qwen2VLImageProcessor"}))
    (folder / "README.md").write_text(
        "---\nbase_model: unsloth/qwen2.5-vl-7b-instruct-unsloth-bnb-4bit\nlibrary_name: peft\n---\n"
        "# qwen_verilog_stage4_final (tiny test copy)\n"
    )


def build_all(root: Path) -> TinyModels:
    root = Path(root)
    tok_dir = root / "tokenizer"
    tok = build_tokenizer(tok_dir)

    qwen2 = root / "qwen2"
    build_qwen2(qwen2, tok)

    qwen2_json = root / "qwen2_json_template"
    shutil.copytree(qwen2, qwen2_json)
    _move_template_to_json(qwen2_json, CHATML_TEMPLATE)

    qwen2_lora = root / "qwen2_lora"
    build_qwen2_lora(qwen2_lora, qwen2)
    qwen2_lora_hub = root / "qwen2_lora_hub_base"
    build_qwen2_lora(qwen2_lora_hub, qwen2, base_name=HUB_BASE_QWEN2, with_tokenizer=False, seed=5)
    qwen2_merged = root / "qwen2_merged"
    build_merged(qwen2_merged, qwen2, qwen2_lora, auto_class="AutoModelForCausalLM")

    vl = root / "qwen25vl"
    build_qwen25vl(vl, tok)
    stage4 = root / "qwen_verilog_stage4_final"
    build_unsloth_vl_adapter(stage4, vl)
    vl_merged = root / "qwen25vl_merged"
    _merge_stage4(vl_merged, vl, stage4)

    return TinyModels(
        root=root,
        tokenizer=tok_dir,
        qwen2=qwen2,
        qwen2_json_template=qwen2_json,
        qwen2_lora=qwen2_lora,
        qwen2_lora_hub_base=qwen2_lora_hub,
        qwen2_merged=qwen2_merged,
        qwen25vl=vl,
        qwen_verilog_stage4_final=stage4,
        qwen25vl_merged=vl_merged,
    )


def _merge_stage4(folder: Path, base: Path, adapter: Path) -> None:
    # The stage-4 adapter names a hub id as base; point a temporary copy of its config at the local base.
    tmp = folder.parent / (folder.name + "_adapter_tmp")
    shutil.copytree(adapter, tmp)
    cfg = json.loads((tmp / "adapter_config.json").read_text())
    cfg["base_model_name_or_path"] = str(base)
    (tmp / "adapter_config.json").write_text(json.dumps(cfg))
    build_merged(folder, base, tmp, auto_class="AutoModelForImageTextToText")
    shutil.rmtree(tmp)
    _move_template_to_json(folder, VL_CHAT_TEMPLATE)
