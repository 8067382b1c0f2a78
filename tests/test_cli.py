"The command-line contract: each command runs end to end on files a user could bring, and ends with a JSON line."
import json, os, subprocess, sys
from pathlib import Path
import pytest

BIN = Path(sys.executable).parent
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "2"}

def run(*args, ok=True):
    r = subprocess.run([str(BIN / args[0]), *map(str, args[1:])], capture_output=True, text=True, env=ENV, timeout=900)
    if ok: assert r.returncode == 0, f"{args[0]} failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    return r

def last_json(r): return json.loads(r.stdout.strip().splitlines()[-1])

@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("data") / "sw"
    s = last_json(run("vlp-data", "--out", d, "--n-train", 64, "--n-val", 32, "--size", 48))
    assert (d / "captions_train.json").exists() and (d / "vqa_val.jsonl").exists()
    return d

def test_pretrain_finetune_eval_on_files(data_dir, tmp_path):
    pre = tmp_path / "pre"
    m = last_json(run("vlp-pretrain", "--recipe", "vilt", "--preset", "tiny", "--steps", 6, "--batch-size", 8,
                      "--data", data_dir, "--out", pre, "--device", "cpu"))
    assert m["steps"] == 6 and m["loss"] > 0 and (pre / "model.safetensors").exists() and (pre / "config.json").exists()
    ft = tmp_path / "vqa"
    m = last_json(run("vlp-finetune", "vqa", "--init", pre, "--train", data_dir / "vqa_train.jsonl", "--val", data_dir / "vqa_val.jsonl",
                      "--images", data_dir / "images", "--steps", 4, "--out", ft, "--device", "cpu"))
    assert m["task"] == "vqa" and 0 <= m["acc_overall"] <= 1 and m["n_questions"] > 0
    m = last_json(run("vlp-eval", "vqa", "--ckpt", ft, "--data", data_dir / "vqa_val.jsonl", "--images", data_dir / "images"))
    assert 0 <= m["acc_overall"] <= 1
    m = last_json(run("vlp-eval", "retrieval", "--ckpt", pre, "--data", data_dir / "captions_val.json", "--images", data_dir / "images", "--n", 32))
    assert m["n_candidates"] == 32 and 0 <= m["itc_t2i_r1"] <= 1

def test_resume_from_cli(tmp_path):
    out = tmp_path / "r"
    run("vlp-pretrain", "--preset", "tiny", "--steps", 4, "--batch-size", 4, "--out", out, "--device", "cpu")
    r = run("vlp-pretrain", "--preset", "tiny", "--steps", 6, "--batch-size", 4, "--out", out, "--device", "cpu", ok=False)
    assert r.returncode == 2 and "already holds a run; add --resume" in r.stderr and "Traceback" not in r.stderr
    m = last_json(run("vlp-pretrain", "--preset", "tiny", "--steps", 6, "--batch-size", 4, "--out", out, "--device", "cpu", "--resume"))
    assert m["steps"] == 6
    (out / "notes.txt").write_text("mine")
    m = last_json(run("vlp-pretrain", "--preset", "tiny", "--steps", 2, "--batch-size", 4, "--out", out, "--device", "cpu", "--overwrite"))
    assert m["steps"] == 2 and (out / "notes.txt").read_text() == "mine"      # a new run; the user's file is kept
    assert max(json.loads(l).get("step", 0) for l in (out / "metrics.jsonl").read_text().splitlines()) <= 2

OUT_OF_RANGE = [   # (command, options, the one line on stderr)
    ("vlp_pretrain", dict(steps=0), "--steps must be an integer >= 1, got 0"),
    ("vlp_pretrain", dict(batch_size=-4), "--batch-size must be an integer >= 1, got -4"),
    ("vlp_pretrain", dict(lr=0.0), "--lr must be a number > 0, got 0.0"),
    ("vlp_pretrain", dict(lr=float("inf")), "--lr must be a number > 0, got inf"),
    ("vlp_pretrain", dict(eval_every=-1), "--eval-every must be an integer >= 0, got -1"),
    ("vlp_pretrain", dict(seed=-3), "--seed must be an integer in 0..4294967295, got -3"),
    ("vlp_pretrain", dict(ckpt_every=-1), "--ckpt-every must be an integer >= 0, got -1"),
    ("vlp_finetune", dict(task="vqa", steps=0), "--steps must be an integer >= 1, got 0"),
    ("vlp_eval", dict(task="vqa", n=0), "--n must be an integer >= 1, got 0"),
    ("vlp_data", dict(n_train=0), "--n-train must be an integer >= 1, got 0"),
    ("vlp_data", dict(n_val=-1), "--n-val must be an integer >= 1, got -1"),
    ("vlp_data", dict(size=100000), "--size must be an integer in 16..1024, got 100000"),
    ("vlp_data", dict(size=8), "--size must be an integer in 16..1024, got 8"),
    ("vlp_data", dict(max_objects=0), "--max-objects must be an integer in 1..24, got 0"),
    ("vlp_data", dict(seed=2**32), "--seed must be an integer in 0..4294967295, got 4294967296"),
]

@pytest.mark.parametrize("cmd,kw,msg", OUT_OF_RANGE, ids=lambda x: x if isinstance(x, str) and " " not in x else None)
def test_numeric_options_out_of_range(cmd, kw, msg, tmp_path, capsys):
    "In-process (a call_parse function called with arguments skips argparse): exit status 2, one line, nothing written."
    from vlp_edu import cli
    if cmd != "vlp_eval": kw = dict(kw, out=tmp_path / "out")
    with pytest.raises(SystemExit) as e: getattr(cli, cmd)(**kw)
    assert e.value.code == 2 and capsys.readouterr().err == f"error: {msg}\n"
    assert not (tmp_path / "out").exists()

def test_out_of_range_from_the_shell(tmp_path):
    r = run("vlp-data", "--out", tmp_path / "d", "--size", 100000, ok=False)                 # one real process
    assert r.returncode == 2 and r.stderr == "error: --size must be an integer in 16..1024, got 100000\n"
    assert not (tmp_path / "d").exists()

def test_clear_errors(data_dir, tmp_path):
    bad = tmp_path / "vqa_bad.jsonl"
    bad.write_text('{"image": "train/000000.png", "question": "what?", "answer": "red"}\n{"image": "train/000001.png", "question": 3}\n')
    r = run("vlp-finetune", "vqa", "--init", tmp_path / "nowhere", "--train", bad, "--images", data_dir / "images", ok=False)
    assert r.returncode != 0 and "vlp-pretrain" in r.stderr          # missing checkpoint says how to make it
    r = run("vlp-pretrain", "--recipe", "nope", ok=False)
    assert r.returncode != 0 and "vilt" in r.stderr
    from vlp_edu.data import VQAJsonl
    with pytest.raises(ValueError, match="line 2"): VQAJsonl(bad, data_dir / "images")

def test_demo_recipes_match_the_app():
    "`vlp-demo --all` trains exactly the checkpoints the app's tabs read, with the commands the app tells users to run."
    from vlp_edu.demo import MAKE, DEMO_RECIPES
    from vlp_edu.recipes import RECIPES
    assert set(DEMO_RECIPES) | {"pretrain", "vqa"} == set(MAKE) - {"teacher"}
    for name, recipe in DEMO_RECIPES.items():
        if recipe == "vqa": assert MAKE[name].startswith(f"vlp-finetune vqa --init {{root}}/{name.removesuffix('-vqa')} ")
        else: assert recipe in RECIPES and MAKE[name].startswith(f"vlp-pretrain --recipe {recipe} ")
