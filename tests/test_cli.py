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
    m = last_json(run("vlp-pretrain", "--preset", "tiny", "--steps", 6, "--batch-size", 4, "--out", out, "--device", "cpu", "--resume"))
    assert m["steps"] == 6

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
