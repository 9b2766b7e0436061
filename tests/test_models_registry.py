"""Choosing a model by one string; strict options; the request checks. No torch needed."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from circuit_muse.errors import CircuitMuseError, ModelError  # noqa: E402
from circuit_muse.models import (  # noqa: E402
    BACKENDS,
    NO_MODEL_HELP,
    Chunk,
    Completion,
    GenerationRequest,
    GenerationResult,
    HFModel,
    Message,
    Model,
    OpenAIModel,
    build_options,
    get_model,
    register_backend,
)


def test_backends_registry_names_both_backends():
    assert BACKENDS["hf"] is HFModel
    assert BACKENDS["openai"] is OpenAIModel
    assert HFModel.backend == "hf" and OpenAIModel.backend == "openai"
    assert issubclass(ModelError, CircuitMuseError)


def test_no_model_configured_says_how(monkeypatch, tmp_path):
    monkeypatch.delenv("CIRCUIT_MUSE_MODEL", raising=False)
    monkeypatch.setattr("circuit_muse.nano.MODEL_DIR", tmp_path / "no-shipped-weights")  # else nano is the default
    with pytest.raises(ModelError) as info:
        get_model()
    msg = str(info.value)
    assert msg == NO_MODEL_HELP
    for needle in ("CIRCUIT_MUSE_MODEL", "hf:PATH", "openai:BASE_URL#MODEL_NAME", "vllm serve", "ollama",
                   "llama-server", "openai:http://localhost:8000/v1#verilog", "CIRCUIT_MUSE_API_KEY"):
        assert needle in msg
    monkeypatch.setenv("CIRCUIT_MUSE_MODEL", "   ")
    with pytest.raises(ModelError, match="No model is configured"):
        get_model(None)


def test_spec_from_environment(monkeypatch):
    monkeypatch.setenv("CIRCUIT_MUSE_MODEL", "openai:http://127.0.0.1:9/v1#verilog")
    model = get_model()
    assert isinstance(model, OpenAIModel)
    assert model.base_url == "http://127.0.0.1:9/v1"
    assert model.model_name == "verilog"
    assert model.spec == "openai:http://127.0.0.1:9/v1#verilog"
    # An explicit spec wins over the environment.
    other = get_model("openai:https://api.example.com/v1#gpt-x")
    assert other.base_url == "https://api.example.com/v1" and other.model_name == "gpt-x"


@pytest.mark.parametrize(
    ("spec", "needles"),
    [
        ("mystery:thing", ["Unknown model backend 'mystery'", "hf, openai", "hf:PATH"]),
        ("http://localhost:8000/v1", ["Unknown model backend 'http'", "did you mean 'openai:http://localhost:8000/v1#MODEL_NAME'"]),
        ("openai:http://localhost:8000/v1", ["openai:BASE_URL#MODEL_NAME", "after '#'"]),
        ("openai:http://localhost:8000/v1#", ["openai:BASE_URL#MODEL_NAME"]),
        ("openai:ftp://host/v1#m", ["must start with http:// or https://"]),
        ("openai:#m", ["openai:BASE_URL#MODEL_NAME"]),
        ("hf:", ["missing what comes after 'hf:'"]),
        ("nothing-here", ["has no backend prefix"]),
    ],
)
def test_malformed_specs_say_what_to_write(spec, needles):
    with pytest.raises(ModelError) as info:
        get_model(spec)
    for needle in needles:
        assert needle in str(info.value)


def test_bare_folder_suggests_hf_prefix(tmp_path):
    with pytest.raises(ModelError, match=r"did you mean 'hf:"):
        get_model(str(tmp_path))


def test_openai_base_url_gets_v1_when_it_has_no_path():
    model = get_model("openai:http://localhost:11434#qwen2.5-coder:7b")
    assert model.base_url == "http://localhost:11434/v1"
    # '#' splits at the last one; model names may hold ':'.
    assert model.model_name == "qwen2.5-coder:7b"


def test_hf_spec_checks_the_folder_without_loading(tmp_path):
    with pytest.raises(ModelError, match="No model folder at"):
        get_model(f"hf:{tmp_path / 'absent'}")
    (tmp_path / "weights.gguf").write_bytes(b"GGUF")
    with pytest.raises(ModelError, match="llama-server"):
        get_model(f"hf:{tmp_path / 'weights.gguf'}")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ModelError, match="neither config.json .* nor adapter_config.json.*notes.txt"):
        get_model(f"hf:{tmp_path}")


def test_unknown_option_names_the_valid_ones():
    with pytest.raises(ModelError) as info:
        get_model("openai:http://localhost:8000/v1#m", retries=3)
    msg = str(info.value)
    assert "Unknown option 'retries'" in msg and "'openai' backend" in msg
    for valid in ("api_key", "max_retries", "timeout_s", "extra_body"):
        assert valid in msg


def test_hf_unknown_option_names_the_valid_ones(tmp_path):
    with pytest.raises(ModelError) as info:
        get_model(f"hf:{tmp_path}", quantisation="nf4")
    msg = str(info.value)
    assert "Unknown option 'quantisation'" in msg
    for valid in ("base_model", "device", "dtype", "quantization", "chat_template"):
        assert valid in msg


def test_option_values_are_checked_and_strings_coerced():
    model = get_model("openai:http://localhost:8000/v1#m", max_retries="5", send_n="false", timeout_s="2.5",
                      extra_body='{"top_k": 5}')
    assert model.options.max_retries == 5
    assert model.options.send_n is False
    assert model.options.timeout_s == 2.5
    assert model.options.extra_body == {"top_k": 5}
    with pytest.raises(ModelError, match="must be an integer"):
        get_model("openai:http://localhost:8000/v1#m", max_retries="many")
    with pytest.raises(ModelError, match="max_retries must be >= 0"):
        get_model("openai:http://localhost:8000/v1#m", max_retries=-1)
    from circuit_muse.models import HFOptions

    with pytest.raises(ModelError, match="choose one of: 'auto', 'none', 'nf4', 'int8'"):
        build_options(HFOptions, {"quantization": "fp4"}, backend="hf")
    with pytest.raises(ModelError, match="device must be"):
        build_options(HFOptions, {"device": "tpu"}, backend="hf")
    assert build_options(HFOptions, {"ignore_eos": "yes"}, backend="hf").ignore_eos is True


@dataclass
class _EchoOptions:
    prefix: str = ""


class _EchoModel(Model):
    backend = "echo"
    Options = _EchoOptions

    def __init__(self, spec: str, **options: object) -> None:
        self.spec = spec
        self.options = build_options(_EchoOptions, options, backend=self.backend)

    @classmethod
    def from_spec(cls, spec: str, **options: object) -> _EchoModel:
        return cls(spec, **options)

    def stream(self, request, on_chunk=None):
        request.validate()
        text = self.options.prefix + request.messages[-1].content
        if on_chunk:
            on_chunk(Chunk(0, text))
        return GenerationResult([Completion(i, text, len(text.split()), "stop") for i in range(request.n)],
                                prompt_tokens=1, duration_s=0.0, time_to_first_token_s=None)


def test_register_backend_and_generate_through_interface():
    register_backend(_EchoModel)
    try:
        model = get_model("echo:anything", prefix=">> ")
        assert isinstance(model, _EchoModel)
        result = model.generate(GenerationRequest([Message("user", "hi there")], n=2))
        assert result.texts == [">> hi there", ">> hi there"]
        assert result.completion_tokens == 6
        with pytest.raises(ModelError, match="Valid options: prefix"):
            get_model("echo:x", bogus=1)
    finally:
        BACKENDS.pop("echo", None)
    with pytest.raises(ModelError, match="Unknown model backend 'echo'"):
        get_model("echo:x")


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        (dict(messages=[]), "messages is empty"),
        (dict(messages=[Message("robot", "x")]), "role is 'robot'"),
        (dict(messages=[Message("user", "x")], n=0), "n is 0"),
        (dict(messages=[Message("user", "x")], temperature=-1.0), "temperature is -1.0"),
        (dict(messages=[Message("user", "x")], top_p=1.5), "top_p is 1.5"),
        (dict(messages=[Message("user", "x")], max_new_tokens=0), "max_new_tokens is 0"),
        (dict(messages=[Message("user", "x")], stop="END"), "stop must be a list"),
        (dict(messages=[{"role": "user", "content": "x"}]), "not Message"),
    ],
)
def test_request_validation(kwargs, needle):
    with pytest.raises(ModelError, match=needle):
        GenerationRequest(**kwargs).validate()


def test_importing_models_imports_no_heavy_packages():
    code = (
        "import sys, circuit_muse.models as m; m.get_model('openai:http://localhost:1/v1#x');"
        "print(sorted(k for k in ('torch', 'transformers', 'peft', 'httpx') if k in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]"
