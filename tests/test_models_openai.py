"""The openai backend against a scripted OpenAI-compatible server over real HTTP on loopback."""
from __future__ import annotations

import logging
import re
import socket
import threading

import pytest

from circuit_muse.errors import ModelError
from circuit_muse.models import GenerationRequest, Message, OpenAIModel, ServerError, get_model
from tests.support.scripted_openai import ScriptedOpenAIServer, pieces

WRONG = "module counter(input clk, output reg [3:0] q)\n  always @(posedge clk) q <= q + 1;\nendmodule\n"
FIXED = "module counter(input clk, output reg [3:0] q);\n  always @(posedge clk) q <= q + 4'd1;\nendmodule\n"
THIRD = "module mux2(input a, b, s, output y);\n  assign y = s ? b : a;\nendmodule\n"
FOURTH = "module dff(input clk, d, output reg q);\n  always @(posedge clk) q <= d;\nendmodule\n"


def request(n: int = 1, **kw) -> GenerationRequest:
    return GenerationRequest([Message("system", "Write Verilog."), Message("user", "A 4-bit counter.")], n=n, **kw)


@pytest.fixture(autouse=True)
def _no_keys(monkeypatch):
    monkeypatch.delenv("CIRCUIT_MUSE_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


@pytest.fixture
def server():
    with ScriptedOpenAIServer([WRONG, FIXED, THIRD, FOURTH]) as s:
        yield s


def fast(spec: str, **options) -> OpenAIModel:
    options.setdefault("backoff_s", 0.01)
    model = get_model(spec, **options)
    assert isinstance(model, OpenAIModel)
    return model


def test_n_in_one_request(server):
    with fast(server.spec()) as model:
        result = model.generate(request(n=3, temperature=0.8, top_p=0.9, seed=7, max_new_tokens=200))
    assert result.texts == [WRONG, FIXED, THIRD]
    assert [c.index for c in result.completions] == [0, 1, 2]
    # One request, three choices, no streaming: the server's total is split by text length.
    assert result.completion_tokens == sum(len(pieces(t)) for t in (WRONG, FIXED, THIRD))
    assert [c.finish_reason for c in result.completions] == ["stop"] * 3
    assert result.prompt_tokens == len(pieces("Write Verilog.")) + len(pieces("A 4-bit counter."))
    assert result.time_to_first_token_s is None
    assert result.duration_s > 0
    [sent] = server.chat_requests
    body = sent.body
    assert body["n"] == 3 and body["model"] == "scripted"
    assert body["temperature"] == 0.8 and body["top_p"] == 0.9 and body["seed"] == 7 and body["max_tokens"] == 200
    assert "stream" not in body
    assert body["messages"] == [{"role": "system", "content": "Write Verilog."},
                                {"role": "user", "content": "A 4-bit counter."}]
    assert sent.headers["Authorization"] == "Bearer EMPTY"


def test_optional_fields_are_not_sent_when_unset(server):
    with fast(server.spec()) as model:
        model.generate(request())
    body = server.chat_requests[0].body
    for key in ("n", "temperature", "top_p", "seed", "stop", "stream", "stream_options"):
        assert key not in body
    assert body["max_tokens"] == 1024


def test_api_key_from_environment(monkeypatch):
    with ScriptedOpenAIServer([FIXED], api_key="sk-circuit") as s:
        with fast(s.spec(), max_retries=0) as model:
            with pytest.raises(ServerError) as info:
                model.generate(request())
        assert info.value.status == 401
        assert "CIRCUIT_MUSE_API_KEY" in str(info.value)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-circuit")
        with fast(s.spec()) as model:
            assert model.generate(request()).texts == [FIXED]
        monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
        monkeypatch.setenv("CIRCUIT_MUSE_API_KEY", "sk-circuit")  # wins over OPENAI_API_KEY
        with fast(s.spec()) as model:
            assert model.generate(request()).texts == [FIXED]
        assert s.chat_requests[-1].headers["Authorization"] == "Bearer sk-circuit"
        with fast(s.spec(), api_key="sk-circuit") as model:  # the option wins over both
            monkeypatch.setenv("CIRCUIT_MUSE_API_KEY", "sk-wrong")
            assert model.generate(request()).texts == [FIXED]


def test_fewer_choices_fan_out_to_concurrent_singles():
    with ScriptedOpenAIServer([WRONG, FIXED, THIRD, FOURTH], max_choices=1, chunk_delay_s=0.0) as s:
        with fast(s.spec()) as model:
            result = model.generate(request(n=4, seed=100))
            assert sorted(result.texts) == sorted([WRONG, FIXED, THIRD, FOURTH])
            assert [c.index for c in result.completions] == [0, 1, 2, 3]
            assert result.texts[0] == WRONG  # the first request's only choice keeps index 0
            first, *singles = s.chat_requests
            assert first.body["n"] == 4 and first.body["seed"] == 100
            assert len(singles) == 3
            assert all("n" not in r.body for r in singles)
            assert sorted(r.body["seed"] for r in singles) == [101, 102, 103]  # distinct seeds, distinct samples
            # The model remembers: the next call goes straight to singles.
            s.enqueue(WRONG, FIXED)
            before = len(s.chat_requests)
            again = model.generate(request(n=2))
            assert len(again.completions) == 2
            new = s.chat_requests[before:]
            assert len(new) == 2 and all("n" not in r.body for r in new)


def test_singles_run_concurrently():
    with ScriptedOpenAIServer([FIXED], max_choices=1, delay_s=0.4) as s:
        with fast(s.spec(), send_n=False) as model:
            result = model.generate(request(n=4))
    assert len(result.completions) == 4 and len(s.chat_requests) == 4
    assert s.max_in_flight >= 2, "the 4 single requests were sent one after another, not concurrently"


def test_server_refusing_n_falls_back_to_singles():
    with ScriptedOpenAIServer([WRONG, FIXED, THIRD], reject_n=True) as s:
        with fast(s.spec()) as model:
            result = model.generate(request(n=3))
    assert len(result.completions) == 3 and set(result.texts) == {WRONG, FIXED, THIRD}
    first, *singles = s.chat_requests
    assert first.body["n"] == 3
    assert len(singles) == 3 and all("n" not in r.body for r in singles)


def test_streaming_n_and_usage(server):
    chunks = []
    threads = set()

    def on_chunk(chunk):
        threads.add(threading.get_ident())
        chunks.append(chunk)

    with fast(server.spec()) as model:
        result = model.stream(request(n=2), on_chunk)
    assert result.texts == [WRONG, FIXED]
    for i, text in enumerate((WRONG, FIXED)):
        mine = [c.text for c in chunks if c.index == i]
        assert "".join(mine) == text
        assert len(mine) == len(pieces(text))  # one chunk per server token
    assert [c.index for c in chunks[:4]] == [0, 1, 0, 1]  # interleaved as the server sent them
    assert [c.completion_tokens for c in result.completions] == [len(pieces(WRONG)), len(pieces(FIXED))]
    assert result.time_to_first_token_s is not None
    assert 0 < result.time_to_first_token_s <= result.duration_s
    assert threads == {threading.get_ident()}
    body = server.chat_requests[0].body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


def test_streaming_fan_out_calls_back_in_the_calling_thread():
    chunks = []
    threads = set()

    def on_chunk(chunk):
        threads.add(threading.get_ident())
        chunks.append(chunk)

    with ScriptedOpenAIServer([WRONG, FIXED, THIRD], max_choices=1, chunk_delay_s=0.001) as s:
        with fast(s.spec()) as model:
            result = model.stream(request(n=3), on_chunk)
    assert threads == {threading.get_ident()}
    for completion in result.completions:
        assert "".join(c.text for c in chunks if c.index == completion.index) == completion.text
    assert sorted(result.texts) == sorted([WRONG, FIXED, THIRD])
    assert all(r.body["stream"] is True for r in s.chat_requests)


def test_stop_and_max_tokens(server):
    with fast(server.spec()) as model:
        cut = model.generate(request(n=1, max_new_tokens=3))
        stopped = model.stream(request(n=1, stop=["always"]), lambda c: None)
    assert cut.completions[0].finish_reason == "length"
    assert cut.completions[0].text == "".join(pieces(WRONG)[:3])
    assert cut.completions[0].completion_tokens == 3
    assert stopped.completions[0].text == FIXED[: FIXED.index("always")]
    assert stopped.completions[0].finish_reason == "stop"
    assert server.chat_requests[1].body["stop"] == ["always"]


def test_retries_5xx_then_succeeds():
    with ScriptedOpenAIServer([FIXED], fail_times=2, fail_status=503) as s:
        with fast(s.spec(), max_retries=3) as model:
            result = model.generate(request())
    assert result.texts == [FIXED]
    assert len(s.chat_requests) == 3 and s.failures_sent == 2


def test_retries_are_bounded():
    with ScriptedOpenAIServer([FIXED], fail_times=10, fail_status=502) as s:
        with fast(s.spec(), max_retries=2) as model:
            with pytest.raises(ServerError) as info:
                model.stream(request(), lambda c: None)
    assert info.value.status == 502
    assert "HTTP 502" in str(info.value) and "after 2 retries" in str(info.value)
    assert "scripted failure" in str(info.value)  # the server's own message is kept
    assert len(s.chat_requests) == 3


def test_429_honours_retry_after(caplog):
    with ScriptedOpenAIServer([FIXED], fail_times=1, fail_status=429, retry_after=0.3) as s:
        with fast(s.spec(), backoff_s=0.01) as model:
            with caplog.at_level(logging.WARNING, logger="circuit_muse"):
                result = model.generate(request())
    assert result.texts == [FIXED]
    delays = [float(m) for m in re.findall(r"retry 1 of \d+ in ([0-9.]+) s", caplog.text)]
    assert delays and delays[0] >= 0.3, caplog.text  # the backoff chosen, not a wall-clock reading


def test_4xx_is_not_retried():
    with ScriptedOpenAIServer([FIXED], fail_times=5, fail_status=400) as s:
        with fast(s.spec(), max_retries=3) as model:
            with pytest.raises(ServerError, match="rejected the request .HTTP 400.: scripted failure"):
                model.generate(request())
    assert len(s.chat_requests) == 1


def test_timeout_is_an_error_that_says_what_to_change():
    with ScriptedOpenAIServer([FIXED], delay_s=3.0) as s:
        with fast(s.spec(), timeout_s=0.3, max_retries=3) as model:
            with pytest.raises(ModelError) as info:
                model.generate(request())
    msg = str(info.value)
    assert "sent nothing for 0.3 s" in msg and "timeout_s" in msg
    assert len(s.chat_requests) == 1  # read timeouts are not retried


def test_streaming_timeout_between_chunks():
    with ScriptedOpenAIServer([FIXED], chunk_delay_s=2.0) as s:
        with fast(s.spec(), timeout_s=0.3) as model:
            with pytest.raises(ModelError, match="timeout_s"):
                model.stream(request(), lambda c: None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_refused_says_start_the_server():
    port = _free_port()
    with fast(f"openai:http://127.0.0.1:{port}/v1#verilog", max_retries=2) as model:
        with pytest.raises(ModelError) as info:
            model.generate(request())
    msg = str(info.value)
    assert f"http://127.0.0.1:{port}/v1" in msg
    assert "Is the server running" in msg and "vllm serve" in msg and "--served-model-name verilog" in msg


def test_unknown_model_lists_what_the_server_serves():
    with ScriptedOpenAIServer([FIXED], models=["verilog-7b", "coder"]) as s:
        url = s.url
        with fast(s.spec("verilog")) as model:
            with pytest.raises(ServerError) as info:
                model.generate(request())
            assert model.list_models() == ["verilog-7b", "coder"]
    msg = str(info.value)
    assert info.value.status == 404
    assert "does not serve a model named 'verilog'" in msg and "verilog-7b, coder" in msg
    assert f"openai:{url}#verilog-7b" in msg


def test_extra_body_and_headers_are_sent(server):
    with fast(server.spec(), extra_body={"structured_outputs": {"regex": "module.*"}},
              headers={"X-Trace": "abc"}) as model:
        model.generate(request())
    sent = server.chat_requests[0]
    assert sent.body["structured_outputs"] == {"regex": "module.*"}
    assert sent.headers["X-Trace"] == "abc"


def test_token_split_keeps_server_total_when_not_streaming():
    # Not streaming, one request with three choices: the server's total is split by text length.
    with ScriptedOpenAIServer([WRONG, FIXED, THIRD]) as s:
        with fast(s.spec()) as model:
            result = model.generate(request(n=3))
    total = sum(len(pieces(t)) for t in (WRONG, FIXED, THIRD))
    assert result.completion_tokens == total
    assert all(c.completion_tokens > 0 for c in result.completions)


def test_responder_sees_feedback():
    def responder(body, index):
        last = body["messages"][-1]["content"]
        return FIXED if "error" in last else WRONG

    with ScriptedOpenAIServer(responder) as s:
        with fast(s.spec()) as model:
            first = model.generate(request())
            feedback = GenerationRequest([Message("user", "A counter."), Message("assistant", first.texts[0]),
                                          Message("user", "Lint error on line 1: missing ';'.")])
            second = model.generate(feedback)
    assert first.texts == [WRONG] and second.texts == [FIXED]
    assert s.chat_requests[1].messages[-1]["content"] == "Lint error on line 1: missing ';'."
