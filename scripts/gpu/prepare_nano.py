"""Stage what the nano training run needs on the GPU machine, in one folder to carry (xz-compressed data).

    python scripts/gpu/prepare_nano.py --instruct instruct.jsonl --corpus CORPUS_DIR --out STAGE_DIR

Fits byte-level BPE tokenizers at several vocabulary sizes on corpus + instruction text, measures bytes per
token on held-apart answers and prompts, keeps the chosen size, renders every example with that tokenizer's
chat template (prompt up to the assistant turn, completion = answer + end token) and writes
instruct.jsonl.xz, corpus.jsonl.xz, tokenizer/, train_nano.py and tokenizers.json (the measurements).
"""
from __future__ import annotations

import argparse
import json
import lzma
import random
import shutil
from pathlib import Path

from circuit_muse.nano.tokenizer import EOS, bytes_per_token, fit_tokenizer


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--instruct", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, required=True, help="folder with corpus.jsonl.xz")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--vocab", type=int, default=8192)
    ap.add_argument("--measure", default="4096,8192,16384")
    ap.add_argument("--tokenizer", type=Path, help="reuse this fitted tokenizer (no fitting, no measuring)")
    a = ap.parse_args()
    rng = random.Random(0)
    examples = [json.loads(x) for x in a.instruct.read_text().splitlines() if x.strip()]
    with lzma.open(a.corpus / "corpus.jsonl.xz", "rt") as f:
        corpus = [json.loads(x)["text"] for x in f if x.strip()]
    # tokenizer text: all corpus files, and each distinct message text once
    msg_texts = sorted({m["content"] for e in examples for m in e["messages"]})
    rng.shuffle(msg_texts)
    probe = msg_texts[:300]
    fit_texts = corpus + msg_texts[300:]
    measured = {}
    chosen = None
    if a.tokenizer:
        # the fitted tokenizer.json through the generic class, as the hf backend and train_nano.py load it
        # (AutoTokenizer beside a qwen2 config.json would build Qwen2Tokenizer and re-split digits)
        from transformers import PreTrainedTokenizerFast

        from circuit_muse.nano.tokenizer import CHATML_TEMPLATE

        chosen = PreTrainedTokenizerFast.from_pretrained(str(a.tokenizer))
        chosen.chat_template = chosen.chat_template or CHATML_TEMPLATE
    for v in [] if a.tokenizer else sorted({int(x) for x in a.measure.split(",")} | {a.vocab}):
        tok = fit_tokenizer(fit_texts, v)
        measured[v] = {"bytes_per_token_messages": round(bytes_per_token(tok, probe), 3),
                       "bytes_per_token_corpus": round(bytes_per_token(tok, corpus[:200]), 3)}
        print(v, measured[v], flush=True)
        if v == a.vocab:
            chosen = tok
    assert chosen is not None
    a.out.mkdir(parents=True, exist_ok=True)
    chosen.save_pretrained(str(a.out / "tokenizer"))
    if measured:
        (a.out / "tokenizers.json").write_text(json.dumps({"chosen": a.vocab, "measured": measured}, indent=2) + "\n")
    with lzma.open(a.out / "instruct.jsonl.xz", "wt", preset=6) as f:
        for e in examples:
            msgs = e["messages"]
            prompt = chosen.apply_chat_template(msgs[:-1], add_generation_prompt=True, tokenize=False)
            full = chosen.apply_chat_template(msgs, tokenize=False)
            assert full.startswith(prompt), e["id"]
            comp = msgs[-1]["content"] + EOS + "\n"
            assert full == prompt + comp, e["id"]
            f.write(json.dumps({"id": e["id"], "kind": e["kind"], "point": e["point"], "prompt": prompt,
                                "completion": comp}) + "\n")
    with lzma.open(a.out / "corpus.jsonl.xz", "wt", preset=9) as f:
        for t in corpus:
            f.write(json.dumps({"text": t}) + "\n")
    shutil.copy(Path(__file__).with_name("train_nano.py"), a.out / "train_nano.py")
    shutil.copy(Path(__file__).with_name("train_nano.sh"), a.out / "train_nano.sh")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
