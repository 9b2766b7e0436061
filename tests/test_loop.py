"""The repair loop against a scripted model served over real HTTP (OpenAI protocol) on loopback."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import circuit_muse as cm
from circuit_muse.loop import Task, classify_task, generate_verified, iter_generate
from circuit_muse.loop.events import Event
from circuit_muse.loop.feedback import MAX_CHARS, build_feedback
from circuit_muse.loop.loop import agenerate_verified
from circuit_muse.testbench import ReferenceTestbench
from tests.support.scripted_openai import ScriptedOpenAIServer

ROOT = Path(__file__).resolve().parent.parent
GOOD = (ROOT / "examples" / "counter.v").read_text()
WRONG_UNDECLARED = (ROOT / "tests" / "designs" / "bad_undeclared.v").read_text()  # 'enable' on line 5
WRONG_BEHAVIOUR = (ROOT / "tests" / "designs" / "bad_mismatch.v").read_text()


def fence(code: str) -> str:
    return f"Here is the design.\n```verilog\n{code}```\n"


def repairing(wrong: str) -> Any:
    """Answer `wrong` until the conversation carries feedback, then the fixed design."""
    def respond(body: dict[str, Any], index: int) -> str:
        saw_feedback = any("failed verification" in m["content"] for m in body["messages"] if m["role"] == "user")
        return fence(GOOD if saw_feedback else wrong)
    return respond


pytestmark = pytest.mark.simulator


def test_loop_passes_in_round_two_and_feedback_names_the_error_and_line() -> None:
    with ScriptedOpenAIServer(repairing(WRONG_UNDECLARED)) as server:
        result = generate_verified("Design a 4-bit counter with enable and active-low async reset.",
                                   model=server.spec(), testbench=ROOT / "testbenches" / "test_counter.py",
                                   samples=2, max_rounds=4, seed=1)
        requests = server.chat_requests
    assert result.passed and result.rounds_used == 2 and result.stop_reason == "passed"
    assert [c.passed for c in result.rounds] == [False, False, True, True]
    assert result.rounds[0].report.category is cm.Category.UNDECLARED
    assert result.report.functional_tested and "q <= q + 4'd1" in result.verilog
    # The feedback the model received in round 2 names the real error and its line.
    feedback = requests[1].messages[-1]["content"]
    assert "line 5" in feedback and "enable" in feedback and "undeclared" in feedback
    assert requests[1].messages[-2]["role"] == "assistant" and "enable" in requests[1].messages[-2]["content"]
    assert result.feedback == [feedback]
    assert result.completion_tokens > 0 and result.total_s > 0


def test_mismatch_feedback_carries_the_failing_cycles_table() -> None:
    with ScriptedOpenAIServer(repairing(WRONG_BEHAVIOUR)) as server:
        result = generate_verified("Design a 4-bit counter with enable and active-low async reset.",
                                   model=server.spec(), testbench=ReferenceTestbench(GOOD), samples=1, seed=3)
        feedback = server.chat_requests[1].messages[-1]["content"]
    assert result.passed and result.rounds_used == 2
    assert "| cycle | inputs | signal | expected | got |" in feedback
    assert "mismatch" in feedback and "Hint:" in feedback


def test_budget_runs_out_and_the_best_candidate_is_returned() -> None:
    with ScriptedOpenAIServer([fence(WRONG_BEHAVIOUR)]) as server:
        result = generate_verified("Design a 4-bit counter.", model=server.spec(),
                                   testbench=ReferenceTestbench(GOOD), samples=1, max_rounds=3)
    assert not result.passed and result.rounds_used == 3 and result.stop_reason == "rounds"
    assert result.report.category is cm.Category.MISMATCH and 0 < result.best.score < 1
    assert len(result.feedback) == 2


def test_identical_candidates_are_verified_once() -> None:
    with ScriptedOpenAIServer([fence(GOOD)]) as server:
        result = generate_verified("Design a 4-bit counter.", model=server.spec(),
                                   testbench=ReferenceTestbench(GOOD), samples=4, max_rounds=1)
    keys = {c.report.key for c in result.rounds}
    assert result.passed and len(result.rounds) == 4 and len(keys) == 1


def test_streaming_events_in_order() -> None:
    with ScriptedOpenAIServer(repairing(WRONG_UNDECLARED)) as server:
        evs = list(iter_generate("Design a 4-bit counter.", model=server.spec(), testbench=ReferenceTestbench(GOOD),
                                 samples=1))
    types = [e.type for e in evs]
    assert types[:2] == ["match", "round_started"] and types[-1] == "done"
    assert evs[0].data["mode"] == "testbench"
    assert "token" in types and "stage" in types and "candidate" in types and "feedback" in types
    assert types.index("feedback") < len(types) - 1 - types[::-1].index("round_started")
    assert evs[-1].data["passed"] and evs[-1].data["result"].passed
    tokens = "".join(e.data["text"] for e in evs if e.type == "token" and e.round == 1)
    assert "enable" in tokens


def test_async_form() -> None:
    with ScriptedOpenAIServer([fence(GOOD)]) as server:
        result = asyncio.run(agenerate_verified("Design a 4-bit counter.", model=server.spec(),
                                                testbench=ReferenceTestbench(GOOD), samples=1))
    assert result.passed and result.rounds_used == 1


def test_explain_returns_prose_marked_unverified() -> None:
    answer = "A latch appears when a combinational block does not assign an output on every path."
    with ScriptedOpenAIServer([answer]) as server:
        result = generate_verified("Explain why incomplete case statements infer latches.", model=server.spec())
    assert result.task == "explain" and not result.verified and not result.passed
    assert result.text == answer and any("cannot be verified" in n for n in result.notes)


def test_no_testbench_and_no_match_says_no_functional_test(monkeypatch: pytest.MonkeyPatch) -> None:
    import circuit_muse.suites as suites

    monkeypatch.setattr(suites, "match", lambda prompt: None)
    seen: list[Event] = []
    with ScriptedOpenAIServer([fence(GOOD)]) as server:
        result = generate_verified("Make me a frobnicator.", model=server.spec(), samples=1, max_rounds=3,
                                   on_event=seen.append)
    # lint+synth clean is not a pass: level static, and the loop stops there (nothing more to learn)
    assert not result.passed and result.level == "static" and not result.report.functional_tested
    assert result.report.category is cm.Category.UNVERIFIED and result.report.score < 1
    assert result.stop_reason == "static-clean" and result.rounds_used == 1
    assert any("no functional test" in n for n in result.notes)
    assert seen[0].type == "match" and seen[0].data["mode"] == "static"
    assert "NOT FUNCTIONALLY VERIFIED" in seen[0].data["line"]
    assert result.to_dict()["level"] == "static"


TERMINAL_COUNT = "Design a 4-bit down counter with a terminal count output that pulses at zero."


def test_a_match_that_contradicts_the_prompt_is_not_imposed() -> None:
    seen: list[Event] = []
    with ScriptedOpenAIServer([fence(GOOD)]) as server:
        result = generate_verified(TERMINAL_COUNT, model=server.spec(), samples=1, max_rounds=1,
                                   on_event=seen.append)
        prompt_sent = server.chat_requests[0].messages[-1]["content"]
    match = result.match
    assert match["family"] == "counter" and "down" in match["variant"] and match["mode"] == "static"
    assert any("terminal count" in x for x in match["ignored"]) and match["unsure"]
    # the suite's contract (no terminal-count port) never reached the model, and no suite ran
    assert "Ports (use exactly these names" not in prompt_sent and result.spec is None
    assert result.report.stage("simulate") is None and not result.passed
    assert seen[0].type == "match" and "terminal count" in seen[0].data["line"]
    assert any("terminal count" in n for n in result.notes)


def test_the_reset_value_in_the_prompt_reaches_the_contract() -> None:
    with ScriptedOpenAIServer([fence(GOOD)]) as server:
        result = generate_verified("Design a 6-bit down counter that stops at zero; its reset value is 63.",
                                   model=server.spec(), samples=1, max_rounds=1)
        prompt_sent = server.chat_requests[0].messages[-1]["content"]
    assert result.match["mode"] == "suite" and result.spec["params"]["RESET"] == 63
    assert "sat" in result.spec["variant"] and "`count` becomes 63" in prompt_sent


def test_an_adapted_match_runs_the_closest_suite_and_says_so() -> None:
    seen: list[Event] = []
    with ScriptedOpenAIServer([fence(GOOD)]) as server:
        result = generate_verified("Design an 8-bit register that loads d when load is asserted.",
                                   model=server.spec(), samples=1, max_rounds=1, on_event=seen.append)
    assert result.match["mode"] == "suite" and result.match["unsure"]
    assert "en" in result.match["variant"].split("-") and result.spec["contract"]["module"] == "register"
    assert "`en`" in seen[0].data["line"] and "UNSURE" in seen[0].data["line"]


def test_task_classifier() -> None:
    assert classify_task("Design a 4-bit up/down counter with synchronous load.") is Task.GENERATE
    assert classify_task("Write a SystemVerilog assertion to verify AXI valid never deasserts before ready.") \
        is Task.ASSERTION
    assert classify_task("The following counter overflows silently. Add saturation logic: "
                         "if (en) cnt <= cnt + 1;") is Task.DEBUG
    assert classify_task("Explain the difference between blocking and nonblocking assignments.") is Task.EXPLAIN


def test_feedback_is_capped() -> None:
    wide = "module m(input [3:0] a, output [1:0] y);\n" + "".join(
        f"  wire [1:0] w{i} = a;\n" for i in range(200)) + "  assign y = a;\nendmodule\n"
    rep = cm.verify(wide, use_cache=False)
    fb = build_feedback(rep)
    assert not rep.passed and len(fb.text) <= MAX_CHARS and len(fb.diagnostics) <= 6


@pytest.mark.model
def test_loop_runs_on_the_hf_backend_with_the_stage4_folder_shape() -> None:
    """The loop drives a local Hugging Face folder shaped like qwen_verilog_stage4_final (a tiny random
    model, so its text is not Verilog): every round is generated, verified and fed back, budget honoured."""
    from tests.support.tiny_models import tiny_models

    tiny = tiny_models()
    model = cm.get_model(f"hf:{tiny.qwen_verilog_stage4_final}", base_model=str(tiny.qwen25vl))
    seen: list[str] = []
    result = generate_verified("Design a 4-bit counter.", model=model, testbench=ReferenceTestbench(GOOD),
                               samples=2, max_rounds=2, seed=0, max_new_tokens=24, on_event=lambda e: seen.append(e.type))
    assert not result.passed and result.rounds_used == 2 and len(result.rounds) == 4
    assert all(c.completion_tokens > 0 for c in result.rounds)
    assert result.report.category is cm.Category.NO_CODE
    assert len(result.feedback) == 1 and "no_code" in result.feedback[0]
    assert seen.count("round_started") == 2 and "token" in seen and seen[-1] == "done"
